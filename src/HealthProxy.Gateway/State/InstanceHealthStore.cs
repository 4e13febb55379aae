using System.Collections.Immutable;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.State;

/// <summary>
/// The one writer of instance states. Probes, the registry and the breakers report here; the store combines
/// each instance's sources (worst wins), publishes the cluster's new immutable <see cref="ClusterRouting"/> in
/// the <see cref="RoutingTable"/>, and then tells its readers through <see cref="Changed"/>.
/// </summary>
/// <remarks>
/// <para>
/// Lifecycle: a cluster's entry is created when YARP announces the cluster and released when it is removed; an
/// instance's entry lives exactly as long as the destination is in its cluster. A report for a destination not
/// routed yet waits (discovery reports a new instance's state before the config reload that adds it, so a new
/// instance is never routed blind) until the destination appears, its source withdraws it, or its cluster goes.
/// </para>
/// <para>
/// Threading: writes take one lock, which guards only this class's own books; requests never touch it (they
/// read the routing table). Changes are queued under the lock, in order, and delivered after it is released by
/// whichever writer thread finds the queue unattended, one change at a time: handlers run outside every writer's
/// lock, may call back into the store (their reports are delivered after the current change), and must not block.
/// </para>
/// </remarks>
internal sealed partial class InstanceHealthStore : IClusterChangeListener
{
    private static readonly int SourceCount = Enum.GetValues<HealthSource>().Length;
    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ClusterEntry> _clusters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<(string Destination, HealthSource Source), HealthState>> _pending = new(StringComparer.Ordinal);
    private readonly SerialDelivery<object> _outbox;
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
        _outbox = new SerialDelivery<object>(Dispatch);
    }

    /// <summary>Raised after a cluster's routing snapshot changed, in order, outside the store's lock.</summary>
    public event Action<ClusterHealthChange>? Changed;

    /// <summary>
    /// Raised (outside the store's lock) when an instance's probe, having judged it unhealthy, judges it anything
    /// else: fresh evidence that the instance came back, newer than any breaker's. Arguments: cluster, destination.
    /// </summary>
    public event Action<string, string>? ProbeRecovered;

    /// <summary>Reports waiting for their destination to appear, for tests of the lifecycle.</summary>
    internal int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Values.Sum(p => p.Count);
            }
        }
    }

    /// <summary>
    /// Records what <paramref name="source"/> says of one instance; null withdraws that source's opinion.
    /// The change is delivered to <see cref="Changed"/> on this thread before it returns (unless another thread
    /// is delivering already), so call it without holding a lock of your own.
    /// </summary>
    public void Report(string clusterId, string destinationId, HealthSource source, HealthState? state)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(clusterId, out var cluster) || !cluster.Destinations.TryGetValue(destinationId, out var destination))
            {
                Wait_NeedsLock(clusterId, destinationId, source, state);
                return;
            }

            if (source == HealthSource.Probe && destination.Sources[(int)source] == HealthState.Unhealthy && state is not (null or HealthState.Unhealthy))
            {
                _outbox.Enqueue(new Recovered(clusterId, destinationId));
            }

            destination.Sources[(int)source] = state;
            if (Recompute_NeedsLock(cluster.Id, destination) is { } transition)
            {
                Publish_NeedsLock(cluster, [transition]);
            }
        }

        Deliver();
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
            _pending.Remove(cluster.ClusterId);
            if (_clusters.Remove(cluster.ClusterId, out var entry))
            {
                entry.FailbackTimer?.Dispose();
                entry.FailbackTimer = null;
                _table.TryGet(cluster.ClusterId, out var previous);
                _table.Remove(cluster.ClusterId);
                var left = entry.Destinations.Values.Select(d => new InstanceTransition(d.Id, d.State, null, null, Left: true)).ToImmutableArray();
                _outbox.Enqueue(new ClusterHealthChange(cluster.ClusterId, previous, null, left));
            }
        }

        Deliver();
    }

    private void Sync(ClusterState cluster)
    {
        lock (_lock)
        {
            var transitions = ImmutableArray.CreateBuilder<InstanceTransition>();
            if (!_clusters.TryGetValue(cluster.ClusterId, out var entry))
            {
                entry = new ClusterEntry(cluster.ClusterId);
                _clusters.Add(cluster.ClusterId, entry);
            }

            var known = entry.Synced;
            entry.Synced = true;
            entry.Metadata = cluster.Model.Config.Metadata;
            entry.Settings = WeightSettings.Parse(entry.Metadata, string.Empty, problems: null);
            entry.YarpDestinations = [.. cluster.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal)];
            List<string>? gone = null;
            foreach (var id in entry.Destinations.Keys)
            {
                if (!cluster.Destinations.ContainsKey(id))
                {
                    (gone ??= []).Add(id);
                }
            }

            foreach (var id in gone ?? [])
            {
                entry.Destinations.Remove(id, out var left);
                transitions.Add(new InstanceTransition(id, left!.State, null, null, Left: true));
                var was = left.State?.ToWireName() ?? "unjudged";
                LogLeft(cluster.ClusterId, id, was);
            }

            _pending.TryGetValue(cluster.ClusterId, out var waiting);
            foreach (var destination in entry.YarpDestinations)
            {
                if (entry.Destinations.ContainsKey(destination.DestinationId))
                {
                    continue;
                }

                var added = new DestinationEntry(destination.DestinationId, SourceCount, _timeProvider.GetUtcNow());
                if (known)
                {
                    // Joined a cluster that was already serving: it ramps up from now (slow start).
                    added.RoutableSince = added.Since;
                }

                if (waiting is not null)
                {
                    for (var source = 0; source < SourceCount; source++)
                    {
                        if (waiting.Remove((destination.DestinationId, (HealthSource)source), out var early))
                        {
                            added.Sources[source] = early;
                        }
                    }
                }

                entry.Destinations.Add(destination.DestinationId, added);
                if (Recompute_NeedsLock(cluster.ClusterId, added) is { } transition)
                {
                    transitions.Add(transition);
                }
            }

            if (waiting is { Count: 0 })
            {
                _pending.Remove(cluster.ClusterId);
            }

            transitions.Sort(static (a, b) => string.CompareOrdinal(a.DestinationId, b.DestinationId));
            Publish_NeedsLock(entry, transitions.ToImmutable());
        }

        Deliver();
    }

    private void Wait_NeedsLock(string clusterId, string destinationId, HealthSource source, HealthState? state)
    {
        if (state is { } known)
        {
            if (!_pending.TryGetValue(clusterId, out var waiting))
            {
                _pending[clusterId] = waiting = [];
            }

            waiting[(destinationId, source)] = known;
        }
        else if (_pending.TryGetValue(clusterId, out var waiting) && waiting.Remove((destinationId, source)) && waiting.Count == 0)
        {
            _pending.Remove(clusterId);
        }
    }

    private InstanceTransition? Recompute_NeedsLock(string clusterId, DestinationEntry destination)
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
            return null;
        }

        var previous = destination.State;
        destination.State = worst;
        destination.Source = decidedBy;
        destination.Since = _timeProvider.GetUtcNow();
        if (!Routable(previous) && Routable(worst))
        {
            destination.RoutableSince = destination.Since;
        }

        LogTransition(clusterId, destination.Id, previous, worst, decidedBy);
        _metrics.StateTransition(clusterId, worst);
        return new InstanceTransition(destination.Id, previous, worst, decidedBy, Left: false);
    }

    /// <summary>Whether an instance in <paramref name="state"/> takes any requests (unjudged ones are routed as healthy).</summary>
    private static bool Routable(HealthState? state) => state is null || state.Value.Accepts(RequestKind.Read);

    private void Publish_NeedsLock(ClusterEntry cluster, ImmutableArray<InstanceTransition> transitions)
    {
        var health = new Dictionary<string, InstanceHealth>(cluster.Destinations.Count, StringComparer.Ordinal);
        foreach (var destination in cluster.Destinations.Values)
        {
            health[destination.Id] = new InstanceHealth(cluster.Id, destination.Id, destination.State, destination.Source, destination.Since, destination.RoutableSince);
        }

        _table.TryGet(cluster.Id, out var previous);
        var now = _timeProvider.GetUtcNow();
        var current = ClusterRouting.Build(cluster.Id, cluster.YarpDestinations, health, previous, cluster.Metadata, cluster.Settings, now);
        _table.Set(current);
        if (previous is not null)
        {
            NoteTierSwitch(previous, current, RequestKind.Read);
            NoteTierSwitch(previous, current, RequestKind.Write);
        }

        ScheduleFailback_NeedsLock(cluster, current, now);
        _outbox.Enqueue(new ClusterHealthChange(cluster.Id, previous, current, transitions));
    }

    private void NoteTierSwitch(ClusterRouting previous, ClusterRouting current, RequestKind kind)
    {
        var was = previous.ServingTier(kind);
        var now = current.ServingTier(kind);
        if (was == now)
        {
            return;
        }

        _metrics.FailoverSwitch(current.ClusterId, kind, now);
        var kindName = GatewayMetrics.KindName(kind);
        if (current.Tiers.Length > 0 && now == current.Tiers[0])
        {
            LogFailedBack(current.ClusterId, kindName, now, was);
        }
        else
        {
            LogFailedOver(current.ClusterId, kindName, now, was);
        }
    }

    /// <summary>
    /// Keeps one timer per cluster armed for its snapshot's <see cref="ClusterRouting.FailbackDue"/>: when a better tier has
    /// been eligible for the failback delay, the snapshot is rebuilt then, whether or not a request or a report arrives.
    /// </summary>
    private void ScheduleFailback_NeedsLock(ClusterEntry cluster, ClusterRouting current, DateTimeOffset now)
    {
        var due = current.FailbackDue;
        if (due == cluster.FailbackDue)
        {
            return;
        }

        cluster.FailbackDue = due;
        if (due is null)
        {
            cluster.FailbackTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // At least a millisecond: a timer due at once could run its callback on this thread, inside the lock.
        var delay = due.Value - now < MinimumTimerDelay ? MinimumTimerDelay : due.Value - now;
        if (cluster.FailbackTimer is null)
        {
            cluster.FailbackTimer = _timeProvider.CreateTimer(static state => ((FailbackTarget)state!).Fire(), new FailbackTarget(this, cluster), delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            cluster.FailbackTimer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A failback timer fired: rebuilds the cluster's snapshot, if the cluster is still the one the timer was armed for.</summary>
    private void Rebuild(ClusterEntry cluster)
    {
        lock (_lock)
        {
            if (!_clusters.TryGetValue(cluster.Id, out var live) || !ReferenceEquals(live, cluster))
            {
                return;
            }

            cluster.FailbackDue = null;
            Publish_NeedsLock(cluster, []);
        }

        Deliver();
    }

    private void Deliver() => _outbox.Drain();

    private void Dispatch(object item)
    {
        switch (item)
        {
            case ClusterHealthChange change when Changed is { } changed:
                foreach (var handler in changed.GetInvocationList())
                {
                    Invoke(() => ((Action<ClusterHealthChange>)handler)(change));
                }

                break;
            case Recovered recovered when ProbeRecovered is { } probeRecovered:
                foreach (var handler in probeRecovered.GetInvocationList())
                {
                    Invoke(() => ((Action<string, string>)handler)(recovered.ClusterId, recovered.DestinationId));
                }

                break;
        }
    }

    private void Invoke(Action call)
    {
        try
        {
            call();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A reader's fault must not keep the others from hearing of this change, nor anyone from the next ones.
            LogHandlerFailed(ex);
        }
    }

    private void LogTransition(string clusterId, string destinationId, HealthState? from, HealthState? to, HealthSource? source)
    {
        var fromName = from?.ToWireName() ?? "unjudged";
        var sourceName = source?.ToString().ToLowerInvariant() ?? "none";
        switch (to)
        {
            case null:
                LogUnjudged(clusterId, destinationId, fromName);
                break;
            case HealthState.Unhealthy:
                LogUnhealthy(clusterId, destinationId, fromName, sourceName);
                break;
            case HealthState.Degraded:
                LogDegraded(clusterId, destinationId, fromName, sourceName);
                break;
            default:
                var toName = to.Value.ToWireName();
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

    [LoggerMessage(EventId = GatewayEventIds.InstanceUnjudged, Level = LogLevel.Debug,
        Message = "Instance {ClusterId}/{DestinationId} is judged by no source any more (was {Previous}); it is routed as healthy.")]
    private partial void LogUnjudged(string clusterId, string destinationId, string previous);

    [LoggerMessage(EventId = GatewayEventIds.InstanceLeft, Level = LogLevel.Debug,
        Message = "Instance {ClusterId}/{DestinationId} left its cluster (it was {Previous}).")]
    private partial void LogLeft(string clusterId, string destinationId, string previous);

    [LoggerMessage(EventId = GatewayEventIds.StateHandlerFailed, Level = LogLevel.Error,
        Message = "A reader of instance state changes failed; the others still hear of every change.")]
    private partial void LogHandlerFailed(Exception exception);

    [LoggerMessage(EventId = GatewayEventIds.FailoverActivated, Level = LogLevel.Warning,
        Message = "Cluster {ClusterId} serves {RequestKind} requests from failover tier {Tier} (was tier {Previous}).")]
    private partial void LogFailedOver(string clusterId, string requestKind, int tier, int previous);

    [LoggerMessage(EventId = GatewayEventIds.FailoverReturned, Level = LogLevel.Information,
        Message = "Cluster {ClusterId} serves {RequestKind} requests from its local tier {Tier} again (was tier {Previous}).")]
    private partial void LogFailedBack(string clusterId, string requestKind, int tier, int previous);

    private sealed record Recovered(string ClusterId, string DestinationId);

    private sealed record FailbackTarget(InstanceHealthStore Store, ClusterEntry Cluster)
    {
        public void Fire() => Store.Rebuild(Cluster);
    }

    private sealed class ClusterEntry(string id)
    {
        public string Id { get; } = id;

        public Dictionary<string, DestinationEntry> Destinations { get; } = new(StringComparer.Ordinal);

        /// <summary>YARP's destination objects in id order: what the routing arrays hold.</summary>
        public IReadOnlyList<DestinationState> YarpDestinations { get; set; } = [];

        public IReadOnlyDictionary<string, string>? Metadata { get; set; }

        public WeightSettings Settings { get; set; } = WeightSettings.Default;

        /// <summary>Whether YARP has announced the cluster before: destinations added later joined a serving cluster.</summary>
        public bool Synced { get; set; }

        /// <summary>Rebuilds the snapshot when a waiting failback is due; created on the first one, disposed with the cluster.</summary>
        public ITimer? FailbackTimer { get; set; }

        /// <summary>When <see cref="FailbackTimer"/> fires next; null while it is idle.</summary>
        public DateTimeOffset? FailbackDue { get; set; }
    }

    private sealed class DestinationEntry(string id, int sources, DateTimeOffset since)
    {
        public string Id { get; } = id;

        public HealthState?[] Sources { get; } = new HealthState?[sources];

        public HealthState? State { get; set; }

        public HealthSource? Source { get; set; }

        public DateTimeOffset Since { get; set; } = since;

        public DateTimeOffset? RoutableSince { get; set; }
    }
}
