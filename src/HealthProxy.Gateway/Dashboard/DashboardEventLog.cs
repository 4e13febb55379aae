using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using HealthProxy.Health.Views;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>
/// The dashboard's bounded ring of recent events, and the signal that wakes its live streams.
/// </summary>
/// <remarks>
/// Fed by diffing what already changes atomically: each cluster's <see cref="ClusterRouting"/>
/// (instance transitions, breaker ejections, fallback episodes) and each <see cref="HealthViewSnapshot"/>
/// (cascading failures starting and ending). Threading: <see cref="RoutingTable.Changed"/> arrives under
/// the state store's lock and <see cref="HealthViews.Changed"/> right after; both only take this class's
/// short lock, append, and complete a task, so no handler blocks a writer or calls back into it.
/// </remarks>
internal sealed class DashboardEventLog
{
    /// <summary>How many events are kept.</summary>
    public const int Capacity = 200;

    private readonly Lock _lock = new();
    private readonly DashboardEvent[] _ring = new DashboardEvent[Capacity];
    private readonly Dictionary<string, ClusterRouting> _routing = new(StringComparer.Ordinal);
    private readonly RoutingTable _table;
    private readonly HealthViews _views;
    private readonly TimeProvider _timeProvider;
    private HealthViewSnapshot _lastViews;
    private int _next;
    private int _count;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DashboardEventLog(RoutingTable table, HealthViews views, TimeProvider timeProvider)
    {
        _table = table;
        _views = views;
        _timeProvider = timeProvider;
        lock (_lock)
        {
            _lastViews = views.Current;
            foreach (var routing in table.Clusters)
            {
                _routing[routing.ClusterId] = routing;
            }
        }

        table.Changed += OnRoutingChanged;
        views.Changed += OnViewsChanged;
    }

    /// <summary>Completes at the next change of anything the dashboard shows; take it before reading the state.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>The kept events, newest first.</summary>
    public IReadOnlyList<DashboardEvent> Recent()
    {
        lock (_lock)
        {
            var events = new DashboardEvent[_count];
            for (var i = 0; i < _count; i++)
            {
                events[i] = _ring[(_next - 1 - i + Capacity) % Capacity];
            }

            return events;
        }
    }

    private void OnRoutingChanged(string clusterId)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            Sync_NeedsLock(clusterId, now);
        }

        Signal();
    }

    private void Sync_NeedsLock(string clusterId, DateTimeOffset now)
    {
        _routing.TryGetValue(clusterId, out var previous);
        if (!_table.TryGet(clusterId, out var current))
        {
            _routing.Remove(clusterId);
        }
        else if (!ReferenceEquals(previous, current))
        {
            _routing[clusterId] = current;
            Diff_NeedsLock(previous, current, now);
        }
    }

    private void Diff_NeedsLock(ClusterRouting? previous, ClusterRouting current, DateTimeOffset now)
    {
        foreach (var (id, instance) in current.Instances)
        {
            HealthState? before = previous is not null && previous.Instances.TryGetValue(id, out var old) ? old.State : null;
            if (instance.State is not { } state || before == state)
            {
                continue;
            }

            var from = before?.ToWireName() ?? "unknown";
            var source = instance.Source?.ToString().ToLowerInvariant() ?? "none";
            var ejected = instance.Source == HealthSource.Breaker && state == HealthState.Unhealthy;
            Add_NeedsLock(new DashboardEvent(
                now,
                ejected ? "ejection" : "transition",
                current.ClusterId + "/" + id,
                ejected ? $"ejected by the circuit breaker (was {from})" : $"{from} → {state.ToWireName()} ({source})"));
        }

        // An empty cluster has an episode too, but nothing to fall back to: not worth a line.
        if (current.All.Count == 0)
        {
            return;
        }

        if (current.ReadFallback is not null && previous?.ReadFallback is null)
        {
            Add_NeedsLock(new DashboardEvent(now, "fallback", current.ClusterId, "no instance eligible for reads: falling back to all instances"));
        }
        else if (current.ReadFallback is null && previous is { ReadFallback: not null, All.Count: > 0 })
        {
            Add_NeedsLock(new DashboardEvent(now, "recovered", current.ClusterId, "reads have an eligible instance again"));
        }

        // Writes lose their instances first (a degraded instance still takes reads); one line when both go at once.
        if (current.WriteFallback is not null && previous?.WriteFallback is null && current.ReadFallback is null)
        {
            Add_NeedsLock(new DashboardEvent(now, "fallback", current.ClusterId, "no instance eligible for writes: falling back to all instances"));
        }
    }

    private void OnViewsChanged()
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            var current = _views.Current;
            foreach (var (root, cascade) in current.Cascades)
            {
                if (!_lastViews.Cascades.ContainsKey(root))
                {
                    // The views hear of a routing change before this log does: record the root's own transition first.
                    Sync_NeedsLock(root, now);
                    Add_NeedsLock(new DashboardEvent(now, "cascade", root, $"cascading failure: {cascade.Affected.Length} dependent services potentially affected ({string.Join(", ", cascade.Affected)})"));
                }
            }

            foreach (var root in _lastViews.Cascades.Keys)
            {
                if (!current.Cascades.ContainsKey(root))
                {
                    Add_NeedsLock(new DashboardEvent(now, "recovered", root, "cascading failure over"));
                }
            }

            _lastViews = current;
        }

        Signal();
    }

    private void Add_NeedsLock(DashboardEvent item)
    {
        _ring[_next] = item;
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
