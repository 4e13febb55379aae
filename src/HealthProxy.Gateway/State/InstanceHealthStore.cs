using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.State;

/// <summary>
/// The one set of books for instance health. Probes, the registry and the breakers report here; the
/// store combines each instance's sources (worst wins), and when an instance's state changes it
/// rebuilds that cluster's <see cref="ClusterRouting"/> in the <see cref="RoutingTable"/>.
/// </summary>
/// <remarks>
/// Threading: all writes take one lock; state changes are rare next to requests, and requests never
/// touch the lock (they read the routing table). It also listens to YARP's cluster changes, so
/// destinations added or removed by a config reload are routed at once.
/// </remarks>
internal sealed partial class InstanceHealthStore : IClusterChangeListener
{
    private static readonly int SourceCount = Enum.GetValues<HealthSource>().Length;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ClusterEntry> _clusters = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Cluster, string Destination, HealthSource Source), HealthState> _pending = [];
    private readonly RoutingTable _table;
    private readonly TimeProvider _timeProvider;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<InstanceHealthStore> _logger;

    public InstanceHealthStore(RoutingTable table, TimeProvider timeProvider, GatewayMetrics metrics, ILogger<InstanceHealthStore> logger)
    {
        _table = table;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// Raised (outside the store's lock) when an instance's probe, having judged it unhealthy, judges it anything
    /// else: fresh evidence that the instance came back, newer than any breaker's. Arguments: cluster, destination.
    /// </summary>
    public event Action<string, string>? ProbeRecovered;

    /// <summary>
    /// Records what <paramref name="source"/> says of one instance; null withdraws that source's
    /// opinion. A report for a destination the gateway does not route yet is kept until it appears
    /// (discovery reports an instance's state before the config reload that adds it, so a new
    /// instance is never routed blind), and dropped when withdrawn.
    /// </summary>
    public void Report(string clusterId, string destinationId, HealthSource source, HealthState? state)
    {
        bool recovered;
        lock (_lock)
        {
            if (!_clusters.TryGetValue(clusterId, out var cluster) || !cluster.Destinations.TryGetValue(destinationId, out var destination))
            {
                if (state is null)
                {
                    _pending.Remove((clusterId, destinationId, source));
                }
                else
                {
                    _pending[(clusterId, destinationId, source)] = state.Value;
                }

                return;
            }

            recovered = source == HealthSource.Probe && destination.Sources[(int)source] == HealthState.Unhealthy && state is not (null or HealthState.Unhealthy);
            destination.Sources[(int)source] = state;
            if (Recompute(cluster.Id, destination))
            {
                Publish_NeedsLock(cluster);
            }
        }

        if (recovered)
        {
            ProbeRecovered?.Invoke(clusterId, destinationId);
        }
    }

    /// <summary>What the store holds for one instance, or null.</summary>
    public InstanceHealth? Get(string clusterId, string destinationId) =>
        _table.TryGet(clusterId, out var routing) && routing.Instances.TryGetValue(destinationId, out var health) ? health : null;

    public void OnClusterAdded(ClusterState cluster) => Sync(cluster);

    public void OnClusterChanged(ClusterState cluster) => Sync(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        lock (_lock)
        {
            _clusters.Remove(cluster.ClusterId);
            _table.Remove(cluster.ClusterId);
        }
    }

    private void Sync(ClusterState cluster)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(cluster.ClusterId, out var entry))
            {
                entry = new ClusterEntry(cluster.ClusterId);
                _clusters.Add(cluster.ClusterId, entry);
            }

            entry.YarpDestinations = [.. cluster.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal)];
            var present = entry.YarpDestinations.Select(d => d.DestinationId).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in entry.Destinations.Keys.Where(id => !present.Contains(id)).ToList())
            {
                entry.Destinations.Remove(gone);
            }

            foreach (var destination in entry.YarpDestinations)
            {
                if (!entry.Destinations.ContainsKey(destination.DestinationId))
                {
                    var added = new DestinationEntry(destination.DestinationId, SourceCount, _timeProvider.GetUtcNow());
                    for (var source = 0; source < SourceCount; source++)
                    {
                        if (_pending.Remove((cluster.ClusterId, destination.DestinationId, (HealthSource)source), out var early))
                        {
                            added.Sources[source] = early;
                        }
                    }

                    Recompute(cluster.ClusterId, added);
                    entry.Destinations.Add(destination.DestinationId, added);
                }
            }

            Publish_NeedsLock(entry);
        }
    }

    private bool Recompute(string clusterId, DestinationEntry destination)
    {
        HealthState? worst = null;
        HealthSource? decidedBy = null;
        for (var i = 0; i < destination.Sources.Length; i++)
        {
            if (destination.Sources[i] is { } state && (worst is null || state > worst))
            {
                worst = state;
                decidedBy = (HealthSource)i;
            }
        }

        if (worst == destination.State)
        {
            destination.Source = decidedBy;
            return false;
        }

        var previous = destination.State;
        destination.State = worst;
        destination.Source = decidedBy;
        destination.Since = _timeProvider.GetUtcNow();
        LogTransition(clusterId, destination.Id, previous, worst, decidedBy);
        _metrics.StateTransition(clusterId, worst);
        return true;
    }

    private void Publish_NeedsLock(ClusterEntry cluster)
    {
        var health = new Dictionary<string, InstanceHealth>(cluster.Destinations.Count, StringComparer.Ordinal);
        foreach (var destination in cluster.Destinations.Values)
        {
            health[destination.Id] = new InstanceHealth(cluster.Id, destination.Id, destination.State, destination.Source, destination.Since);
        }

        _table.TryGet(cluster.Id, out var previous);
        _table.Set(ClusterRouting.Build(cluster.Id, cluster.YarpDestinations, health, previous));
    }

    private void LogTransition(string clusterId, string destinationId, HealthState? from, HealthState? to, HealthSource? source)
    {
        var fromName = from?.ToWireName() ?? "unknown";
        var toName = to?.ToWireName() ?? "unknown";
        var sourceName = source?.ToString() ?? "none";
        switch (to)
        {
            case HealthState.Unhealthy:
                LogUnhealthy(clusterId, destinationId, fromName, sourceName);
                break;
            case HealthState.Degraded:
                LogDegraded(clusterId, destinationId, fromName, sourceName);
                break;
            default:
                LogChanged(clusterId, destinationId, fromName, toName, sourceName);
                break;
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.InstanceStateChanged, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId} is now {State} (was {Previous}, decided by {Source}).")]
    private partial void LogChanged(string clusterId, string destinationId, string previous, string state, string source);

    [LoggerMessage(EventId = GatewayEventIds.InstanceDegraded, Level = LogLevel.Warning,
        Message = "Instance {ClusterId}/{DestinationId} is now degraded (was {Previous}, decided by {Source}); it takes reads only.")]
    private partial void LogDegraded(string clusterId, string destinationId, string previous, string source);

    [LoggerMessage(EventId = GatewayEventIds.InstanceUnhealthy, Level = LogLevel.Error,
        Message = "Instance {ClusterId}/{DestinationId} is now unhealthy (was {Previous}, decided by {Source}); it takes no traffic.")]
    private partial void LogUnhealthy(string clusterId, string destinationId, string previous, string source);

    private sealed class ClusterEntry(string id)
    {
        public string Id { get; } = id;

        public Dictionary<string, DestinationEntry> Destinations { get; } = new(StringComparer.Ordinal);

        /// <summary>YARP's destination objects in id order: what the routing arrays hold.</summary>
        public IReadOnlyList<DestinationState> YarpDestinations { get; set; } = [];
    }

    private sealed class DestinationEntry(string id, int sources, DateTimeOffset since)
    {
        public string Id { get; } = id;

        public HealthState?[] Sources { get; } = new HealthState?[sources];

        public HealthState? State { get; set; }

        public HealthSource? Source { get; set; }

        public DateTimeOffset Since { get; set; } = since;
    }
}
