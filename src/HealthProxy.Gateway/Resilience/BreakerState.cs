namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// What the request path reads of one destination's breaker without running Polly: whether it is closed, and
/// in consecutive mode the destination's run of failures.
/// </summary>
/// <remarks>
/// Set from the breaker's own callbacks and from each build of its pipeline. A build for a new policy starts
/// closed with a new run; a second build for the same policy is the twin the registry makes on concurrent first
/// use, and changes nothing (its sibling may have opened already).
/// </remarks>
internal sealed class BreakerState
{
    private volatile bool _closed = true;
    private volatile FailureStreak? _streak;
    private ClusterPolicy? _builtFor;

    /// <summary>Whether requests need no permission from the breaker, only to report their outcome afterwards.</summary>
    public bool IsClosed => _closed;

    /// <summary>The run of failures counted in consecutive mode; null in ratio mode or with the breaker disabled.</summary>
    public FailureStreak? Streak => _streak;

    /// <summary>The breaker's pipeline was built for <paramref name="policy"/>.</summary>
    public void Rebuilt(ClusterPolicy policy)
    {
        if (ReferenceEquals(Interlocked.Exchange(ref _builtFor, policy), policy))
        {
            return;
        }

        var options = policy.Options;
        _streak = options.Enabled && options.FailureRatio is null ? new FailureStreak(options.ConsecutiveFailures) : null;
        _closed = true;
    }

    /// <summary>The breaker opened (Polly's OnOpened).</summary>
    public void Opened() => _closed = false;

    /// <summary>The breaker closed (Polly's OnClosed): the run of failures ends with it.</summary>
    public void Closed()
    {
        _closed = true;
        _streak?.End();
    }
}
