namespace HealthProxy.Consul.Discovery;

/// <summary>
/// Whether a watch can reach Consul and what went wrong last. The gateway marks a service's data stale when
/// <see cref="IsReachable"/> is false and keeps routing on the last good snapshot.
/// </summary>
public sealed record ConsulWatchStatus
{
    /// <summary>Whether the latest call succeeded (false before the first answer).</summary>
    public bool IsReachable { get; init; }

    /// <summary>When the latest good answer arrived.</summary>
    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>When the latest failure happened.</summary>
    public DateTimeOffset? LastFailure { get; init; }

    /// <summary>Why the latest failure happened; kept after recovery.</summary>
    public ConsulErrorKind? LastErrorKind { get; init; }

    /// <summary>The latest failure's message (no token in it); kept after recovery.</summary>
    public string? LastErrorMessage { get; init; }

    /// <summary>
    /// When the current run of failures began (the first failure after a good answer); null while Consul
    /// answers. A blocking query still waiting is not a failure, so this is how long Consul has really
    /// been failing, which the time since <see cref="LastSuccess"/> is not.
    /// </summary>
    public DateTimeOffset? FailingSince { get; init; }

    /// <summary>Failures since the latest good answer.</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>The index the next blocking query will send.</summary>
    public ulong Index { get; init; }
}
