namespace HealthProxy.Gateway.Routing;

/// <summary>
/// One stretch of time during which a cluster has no instance eligible for a request kind. Its first
/// request logs; the rest only count. It survives snapshot rebuilds while the eligible set stays empty.
/// </summary>
internal sealed class FallbackEpisode
{
    private int _announced;

    /// <summary>True for the first caller only.</summary>
    public bool TryAnnounce() => Interlocked.Exchange(ref _announced, 1) == 0;
}
