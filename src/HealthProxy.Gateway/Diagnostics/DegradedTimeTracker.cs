using HealthProxy.Gateway.Routing;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// Accumulates, per cluster, the time its aggregate is <see cref="AggregateHealth.Degraded"/> (some but not
/// most instances unhealthy), for <c>healthproxy.service.degraded.time</c>. Driven by routing changes and
/// <see cref="TimeProvider"/> timestamps, so a scrape in the middle of an episode counts it up to now.
/// </summary>
/// <remarks>Threading: <see cref="RoutingTable.Changed"/> arrives on the store's writer; scrapes read under the same lock.</remarks>
internal sealed class DegradedTimeTracker
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Episode> _clusters = new(StringComparer.Ordinal);
    private readonly RoutingTable _table;
    private readonly TimeProvider _timeProvider;

    public DegradedTimeTracker(RoutingTable table, TimeProvider timeProvider)
    {
        _table = table;
        _timeProvider = timeProvider;
        table.Changed += OnChanged;
        foreach (var cluster in table.Clusters)
        {
            OnChanged(cluster.ClusterId);
        }
    }

    /// <summary>Seconds each known cluster has spent degraded, up to now.</summary>
    public List<(string ClusterId, double Seconds)> Totals()
    {
        var now = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            var totals = new List<(string, double)>(_clusters.Count);
            foreach (var (clusterId, episode) in _clusters)
            {
                var open = episode.Since is { } since ? _timeProvider.GetElapsedTime(since, now) : TimeSpan.Zero;
                totals.Add((clusterId, (episode.Accumulated + open).TotalSeconds));
            }

            return totals;
        }
    }

    private void OnChanged(string clusterId)
    {
        var now = _timeProvider.GetTimestamp();
        var present = _table.TryGet(clusterId, out var routing);
        var degraded = present && Aggregate(routing) == AggregateHealth.Degraded;
        lock (_lock)
        {
            if (!present)
            {
                _clusters.Remove(clusterId);
                return;
            }

            if (!_clusters.TryGetValue(clusterId, out var episode))
            {
                episode = new Episode();
                _clusters.Add(clusterId, episode);
            }

            if (degraded && episode.Since is null)
            {
                episode.Since = now;
            }
            else if (!degraded && episode.Since is { } since)
            {
                episode.Accumulated += _timeProvider.GetElapsedTime(since, now);
                episode.Since = null;
            }
        }
    }

    /// <summary>The cluster's aggregate: all healthy -> healthy, more than half -> degraded, else unhealthy.</summary>
    internal static AggregateHealth Aggregate(ClusterRouting routing)
    {
        var healthy = 0;
        foreach (var instance in routing.Instances.Values)
        {
            healthy += instance.RoutingState == HealthState.Healthy ? 1 : 0;
        }

        return HealthAggregation.Group(healthy, routing.All.Count);
    }

    private sealed class Episode
    {
        public TimeSpan Accumulated { get; set; }

        public long? Since { get; set; }
    }
}
