namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// What the request path reads of one destination's breaker without running Polly: whether it is closed, and
/// in consecutive mode the destination's run of failures.
/// </summary>
/// <remarks>
/// Set from the breaker's own callbacks and from each build of its pipeline (a rebuilt breaker starts closed),
/// so a pipeline built twice on concurrent first use shares one state with its twin.
/// </remarks>
internal sealed class BreakerState
{
    private volatile bool _closed = true;
    private volatile FailureStreak? _streak;

    /// <summary>Whether requests need no permission from the breaker, only to report their outcome afterwards.</summary>
    public bool IsClosed => _closed;

    /// <summary>The run of failures the breaker counts in consecutive mode; null in ratio mode or with no breaker.</summary>
    public FailureStreak? Streak => _streak;

    public void Rebuilt(FailureStreak? streak)
    {
        _streak = streak;
        _closed = true;
    }

    public void Opened() => _closed = false;

    public void Closed() => _closed = true;
}
