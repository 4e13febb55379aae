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
/// Fed by the owners' own change streams: the store's <see cref="InstanceHealthStore.Changed"/> (instance
/// transitions, ejections, instances leaving, fallback episodes) and <see cref="HealthViews.Changed"/>
/// (the cascading failures the views started, as logged and counted there, and their end). It keeps no copy of
/// either's state, only the roots of the cascades it announced, until they end. Threading: both arrive outside their writers' locks; handlers take this class's short
/// lock, append, and complete a task.
/// </remarks>
internal sealed class DashboardEventLog
{
    /// <summary>How many events are kept.</summary>
    public const int Capacity = 200;

    private readonly Lock _lock = new();
    private readonly DashboardEvent[] _ring = new DashboardEvent[Capacity];
    private readonly HealthViews _views;
    private readonly TimeProvider _timeProvider;
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);
    private int _next;
    private int _count;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DashboardEventLog(InstanceHealthStore store, HealthViews views, TimeProvider timeProvider)
    {
        _views = views;
        _timeProvider = timeProvider;
        store.Changed += OnClusterChanged;
        views.CascadesStarted += OnCascadesStarted;
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

    /// <summary>Records what one change of a cluster's routing means to an operator.</summary>
    internal void OnClusterChanged(ClusterHealthChange change)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (change.Current is null)
            {
                Add_NeedsLock(new DashboardEvent(now, "removed", change.ClusterId, "cluster removed from the configuration"));
            }
            else
            {
                foreach (var transition in change.Transitions)
                {
                    if (Describe(transition) is { } text)
                    {
                        var ejected = transition is { To: HealthState.Unhealthy, Source: HealthSource.Breaker };
                        Add_NeedsLock(new DashboardEvent(now, transition.Left ? "left" : ejected ? "ejection" : "transition", change.ClusterId + "/" + transition.DestinationId, text));
                    }
                }

                Fallbacks_NeedsLock(change.Previous, change.Current, now);
            }
        }

        Signal();
    }

    private static string? Describe(InstanceTransition transition)
    {
        var from = transition.From?.ToWireName() ?? "unjudged";
        if (transition.Left)
        {
            return $"left the cluster (was {from})";
        }

        if (transition.To is not { } to)
        {
            // A source withdrew its word and none is left: routed as healthy again, worth no line of its own.
            return null;
        }

        return transition.Source == HealthSource.Breaker && to == HealthState.Unhealthy
            ? $"ejected by the circuit breaker (was {from})"
            : $"{from} → {to.ToWireName()} ({SourceName(transition.Source)})";
    }

    private static string SourceName(HealthSource? source) => source switch
    {
        HealthSource.Registry => "consul",
        { } other => other.ToString().ToLowerInvariant(),
        null => "none",
    };

    private void Fallbacks_NeedsLock(ClusterRouting? previous, ClusterRouting current, DateTimeOffset now)
    {
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

    private void OnCascadesStarted(IReadOnlyList<CascadingFailure> started)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            foreach (var cascade in started)
            {
                var count = cascade.Affected.Length;
                _announced.Add(cascade.Root);
                Add_NeedsLock(new DashboardEvent(
                    now, "cascade", cascade.Root, $"cascading failure: {count} dependent service{(count == 1 ? "" : "s")} potentially affected ({string.Join(", ", cascade.Affected)})"));
            }
        }
    }

    private void OnViewsChanged()
    {
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            var current = _views.Current;
            _announced.RemoveWhere(root =>
            {
                if (current.Cascades.TryGetValue(root, out var cascade) && cascade.Affected.Length > 0)
                {
                    return false;
                }

                Add_NeedsLock(new DashboardEvent(now, "recovered", root, "cascading failure over"));
                return true;
            });
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
