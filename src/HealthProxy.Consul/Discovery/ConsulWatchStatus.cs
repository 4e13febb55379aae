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

    /// <summary>
    /// When the blocking query now open was sent, after a good answer; null while none is open (before the
    /// first answer, between a failure and the next good answer). While it is open Consul is confirming the
    /// data: it would answer at once if anything changed.
    /// </summary>
    public DateTimeOffset? BlockingSince { get; init; }

    /// <summary>
    /// How long the open blocking query may take before Consul is overdue: its wait plus the wait/16 of jitter
    /// Consul adds. Past that, an open query confirms nothing: a Consul that accepts the call and never answers
    /// ages the data like one that refuses it.
    /// </summary>
    public TimeSpan BlockingAllowance { get; init; }

    /// <summary>
    /// The latest moment Consul is known to have confirmed the data: its latest good answer (changed or not),
    /// or the end of a blocking query that stayed open until it failed. Null before the first good answer.
    /// </summary>
    public DateTimeOffset? LastConfirmed { get; init; }

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

    /// <summary>
    /// How old the data is at <paramref name="now"/>: zero while a blocking query is open within its
    /// <see cref="BlockingAllowance"/>, the time past it when overdue, else the time since
    /// <see cref="LastConfirmed"/>; null before the first good answer. A quiet service keeps it near zero;
    /// only failures and a Consul that stops answering make it grow.
    /// </summary>
    public TimeSpan? DataAge(DateTimeOffset now)
    {
        var confirmed = BlockingSince is { } since ? since + BlockingAllowance : LastConfirmed;
        return confirmed is { } at ? (now > at ? now - at : TimeSpan.Zero) : null;
    }

    /// <summary>Until when an open blocking query confirmed the data, for the failure that ends it at <paramref name="now"/>.</summary>
    internal DateTimeOffset? ConfirmedUntil(DateTimeOffset now) =>
        BlockingSince is { } since ? (since + BlockingAllowance < now ? since + BlockingAllowance : now) : LastConfirmed;
}
