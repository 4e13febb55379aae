using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health.Views;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// The one aggregate: service, category and overall health, the dependency graph and the cascading failures
/// spreading through it, kept in one immutable <see cref="HealthViewSnapshot"/> that every output reads
/// (<c>/health</c>, <c>/health/detailed</c>, gRPC health, the gauges, the dashboard).
/// </summary>
/// <remarks>
/// The rules are <see cref="HealthProxy.Health.HealthAggregation"/>'s; this class only gathers each service's inputs: its
/// routing snapshot (instance counts), its configured metadata (category, <c>HealthProxy.Critical</c>,
/// <c>HealthProxy.DependsOn</c>) and what its Consul service publishes (category, dependencies).
/// Threading: fed by <see cref="InstanceHealthStore.Changed"/> and <see cref="ConsulDiscovery.PublishedChanged"/>,
/// both raised outside their writers' locks. This class's lock serialises the builder; the snapshot is published
/// with one volatile write, and <see cref="Changed"/>, logs and metrics happen after the lock is released.
/// One cluster's change costs work for that cluster and for the clusters that name it as a dependency, never a
/// scan of every service.
/// </remarks>
internal sealed partial class HealthViews
{
    private readonly Lock _lock = new();
    private readonly HealthViewBuilder _builder = new();

    // Published dependency names are matched to clusters by cluster id or by Consul service name. Each name a
    // cluster's instances publish is an interest: when a cluster with that id or service name comes or goes, the
    // interested clusters are judged again.
    private readonly Dictionary<string, HashSet<string>> _interested = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _interests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _clustersByServiceName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _serviceNameOf = new(StringComparer.Ordinal);
    private readonly RoutingTable _table;
    private readonly ConsulDiscovery _discovery;
    private readonly TimeProvider _timeProvider;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<HealthViews> _logger;
    private readonly ServiceStateHistory _history = new();
    private volatile HealthViewSnapshot _current = HealthViewSnapshot.Empty;

    public HealthViews(
        InstanceHealthStore store,
        RoutingTable table,
        ConsulDiscovery discovery,
        TimeProvider timeProvider,
        GatewayMetrics metrics,
        ILogger<HealthViews> logger)
    {
        _table = table;
        _discovery = discovery;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
        store.Changed += change => Update(change.ClusterId, nameChanged: false);
        discovery.PublishedChanged += clusterId => Update(clusterId, nameChanged: true);
        foreach (var cluster in table.Clusters)
        {
            Update(cluster.ClusterId, nameChanged: true);
        }
    }

    /// <summary>Raised after every change of <see cref="Current"/>, outside any lock; handlers must only signal, never block.</summary>
    public event Action? Changed;

    /// <summary>
    /// Raised (outside any lock, before <see cref="Changed"/>) with the cascading failures a change started: the ones
    /// logged as event 1500 and counted in <c>healthproxy.cascading_failures</c>.
    /// </summary>
    public event Action<IReadOnlyList<CascadingFailure>>? CascadesStarted;

    /// <summary>The views now.</summary>
    public HealthViewSnapshot Current => _current;

    /// <summary>Each service's state over the last hour, written as this class judges it.</summary>
    public ServiceStateHistory History => _history;

    private void Update(string clusterId, bool nameChanged)
    {
        var started = new List<CascadingFailure>();
        bool changed;
        lock (_lock)
        {
            var existed = _builder.Current.Services.ContainsKey(clusterId);
            changed = Apply_NeedsLock(clusterId, started);
            var exists = _builder.Current.Services.ContainsKey(clusterId);
            var others = new SortedSet<string>(StringComparer.Ordinal);
            if (existed != exists)
            {
                Interested(clusterId, others);
            }

            if (nameChanged || !exists)
            {
                Reindex_NeedsLock(clusterId, others);
            }

            others.Remove(clusterId);
            foreach (var other in others)
            {
                changed |= Apply_NeedsLock(other, started);
            }

            _current = _builder.Current;
        }

        foreach (var cascade in started)
        {
            LogCascadingFailure(cascade.Root, cascade.Affected.Length, string.Join(", ", cascade.Affected));
            _metrics.CascadingFailure(cascade.Root, cascade.Affected.Length);
        }

        if (started.Count > 0)
        {
            CascadesStarted?.Invoke(started);
        }

        if (changed)
        {
            Changed?.Invoke();
        }
    }

    private bool Apply_NeedsLock(string clusterId, List<CascadingFailure> started)
    {
        if (!_table.TryGet(clusterId, out var routing))
        {
            SetInterests_NeedsLock(clusterId, []);
            _history.Remove(clusterId);
            return _builder.Remove(clusterId).Changed;
        }

        var metadata = routing.Metadata;
        _discovery.Published.TryGetValue(clusterId, out var published);
        var category = metadata?.GetValueOrDefault(HealthProxyMetadata.Category) is { Length: > 0 } configured && !string.IsNullOrWhiteSpace(configured)
            ? configured
            : published?.Category;
        var critical = bool.TryParse(metadata?.GetValueOrDefault(HealthProxyMetadata.Critical), out var isCritical) && isCritical;
        var input = new ServiceHealthInput(clusterId, category, critical, routing.Healthy, routing.ReadEligible, routing.All.Count, DependsOn_NeedsLock(clusterId, metadata, published));
        var update = _builder.Apply(input, _timeProvider.GetUtcNow());
        if (update.Snapshot.Services.TryGetValue(clusterId, out var view))
        {
            _history.Record(clusterId, view.Health, view.Since);
        }

        started.AddRange(update.NewCascades);
        return update.Changed;
    }

    /// <summary>
    /// The cluster ids <paramref name="clusterId"/> depends on: those its metadata names, and those its instances
    /// publish, matched by cluster id or by a cluster's Consul service name. Published names that match no cluster
    /// (a database, a cache) are the service's own business and stay out of the graph.
    /// </summary>
    private List<string> DependsOn_NeedsLock(string clusterId, IReadOnlyDictionary<string, string>? metadata, PublishedService? published)
    {
        var dependsOn = new List<string>();
        if (metadata?.GetValueOrDefault(HealthProxyMetadata.DependsOn) is { } configured)
        {
            dependsOn.AddRange(configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var names = published?.Dependencies ?? [];
        foreach (var name in names)
        {
            if (_table.TryGet(name, out _))
            {
                dependsOn.Add(name);
            }
            else if (_clustersByServiceName.TryGetValue(name, out var clusters))
            {
                dependsOn.AddRange(clusters);
            }
        }

        SetInterests_NeedsLock(clusterId, [.. names]);
        return dependsOn;
    }

    private void SetInterests_NeedsLock(string clusterId, string[] names)
    {
        if (_interests.Remove(clusterId, out var old))
        {
            foreach (var name in old)
            {
                if (_interested.TryGetValue(name, out var set) && set.Remove(clusterId) && set.Count == 0)
                {
                    _interested.Remove(name);
                }
            }
        }

        if (names.Length == 0)
        {
            return;
        }

        _interests[clusterId] = names;
        foreach (var name in names)
        {
            if (!_interested.TryGetValue(name, out var set))
            {
                _interested[name] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            set.Add(clusterId);
        }
    }

    /// <summary>Keeps the service-name index current for <paramref name="clusterId"/>, collecting who must be judged again.</summary>
    private void Reindex_NeedsLock(string clusterId, SortedSet<string> affected)
    {
        var name = _table.TryGet(clusterId, out _) && _discovery.Published.TryGetValue(clusterId, out var published) ? published.ServiceName : null;
        _serviceNameOf.TryGetValue(clusterId, out var old);
        if (old == name)
        {
            return;
        }

        if (old is not null)
        {
            _serviceNameOf.Remove(clusterId);
            if (_clustersByServiceName.TryGetValue(old, out var clusters) && clusters.Remove(clusterId) && clusters.Count == 0)
            {
                _clustersByServiceName.Remove(old);
            }

            Interested(old, affected);
        }

        if (name is not null)
        {
            _serviceNameOf[clusterId] = name;
            if (!_clustersByServiceName.TryGetValue(name, out var clusters))
            {
                _clustersByServiceName[name] = clusters = new SortedSet<string>(StringComparer.Ordinal);
            }

            clusters.Add(clusterId);
            Interested(name, affected);
        }
    }

    private void Interested(string name, SortedSet<string> into)
    {
        if (_interested.TryGetValue(name, out var clusters))
        {
            into.UnionWith(clusters);
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.CascadingFailure, Level = LogLevel.Error,
        Message = "Cascading failure: {Root} cannot serve and {AffectedCount} services depend on it: {Affected}.")]
    private partial void LogCascadingFailure(string root, int affectedCount, string affected);
}
