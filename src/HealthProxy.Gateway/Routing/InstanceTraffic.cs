using System.Runtime.CompilerServices;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The owner of every destination's <see cref="TrafficCounter"/>: where load balancing sent each request over the
/// last minute, by kind, for the dashboard's traffic shares.
/// </summary>
/// <remarks>
/// A counter lives beside the YARP <see cref="DestinationState"/> it counts (a <see cref="ConditionalWeakTable{TKey,TValue}"/>,
/// as YARP keeps its passive health state), so it goes when YARP drops the destination, and with its cluster at once.
/// It is made when the destination appears (this class is a cluster change listener), so a request only looks it up
/// (lock-free) and counts (one compare-and-swap); a request that wins the race with the listener makes it itself.
/// </remarks>
internal sealed class InstanceTraffic(TimeProvider timeProvider) : IClusterChangeListener
{
    private readonly ConditionalWeakTable<DestinationState, TrafficCounter> _counters = new();

    /// <summary>Counts one request that load balancing sent to <paramref name="destination"/>.</summary>
    public void Record(DestinationState destination, RequestKind kind, bool fallback)
    {
        if (!_counters.TryGetValue(destination, out var counter))
        {
            counter = _counters.GetValue(destination, static _ => new TrafficCounter());
        }

        counter.Record(Now(), kind, fallback);
    }

    /// <summary>What <paramref name="destination"/> took over the last minute.</summary>
    public TrafficWindow LastMinute(DestinationState destination) =>
        _counters.TryGetValue(destination, out var counter) ? counter.Read(Now()) : default;

    /// <summary>Whether <paramref name="destination"/> has a counter (test seam for the lifecycle).</summary>
    internal bool IsTracked(DestinationState destination) => _counters.TryGetValue(destination, out _);

    public void OnClusterAdded(ClusterState cluster) => Track(cluster);

    public void OnClusterChanged(ClusterState cluster) => Track(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        foreach (var destination in cluster.Destinations.Values)
        {
            _counters.Remove(destination);
        }
    }

    private void Track(ClusterState cluster)
    {
        foreach (var destination in cluster.Destinations.Values)
        {
            _ = _counters.GetValue(destination, static _ => new TrafficCounter());
        }
    }

    private long Now() => timeProvider.GetUtcNow().ToUnixTimeSeconds();
}
