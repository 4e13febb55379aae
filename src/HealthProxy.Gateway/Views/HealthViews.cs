using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using HealthProxy.Health.Views;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// The gateway's aggregated health views (per cluster, per category, overall), its dependency graph
/// and the cascading failures spreading through it, kept current from the routing table.
/// </summary>
/// <remarks>
/// Threading: <see cref="RoutingTable.Changed"/> (raised under the state store's lock) and
/// <see cref="ConsulDiscovery.PublishedChanged"/> feed one cluster at a time into a
/// <see cref="HealthViewBuilder"/> under this class's lock; the result is an immutable snapshot
/// published with one volatile write. Readers (endpoints, gRPC) take <see cref="Current"/> and never
/// lock. Nothing here calls back into the store or takes the discovery lock, so no lock order can invert.
/// </remarks>
internal sealed partial class HealthViews
{
    private readonly Lock _lock = new();
    private readonly HealthViewBuilder _builder = new();
    private readonly HashSet<string> _unresolved = new(StringComparer.Ordinal);
    private readonly RoutingTable _table;
    private readonly IProxyStateLookup _proxyState;
    private readonly ConsulDiscovery _discovery;
    private readonly TimeProvider _timeProvider;
    private readonly GatewayMetrics _metrics;
    private readonly ServiceHealthGauges _gauges;
    private readonly HashSet<string> _categoriesOnGauge = new(StringComparer.Ordinal);
    private readonly ILogger<HealthViews> _logger;
    private volatile HealthViewSnapshot _current = HealthViewSnapshot.Empty;

    public HealthViews(
        RoutingTable table,
        IProxyStateLookup proxyState,
        ConsulDiscovery discovery,
        TimeProvider timeProvider,
        GatewayMetrics metrics,
        ServiceHealthGauges gauges,
        ILogger<HealthViews> logger)
    {
        _table = table;
        _proxyState = proxyState;
        _discovery = discovery;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _gauges = gauges;
        _logger = logger;
        table.Changed += Update;
        discovery.PublishedChanged += Update;
        foreach (var cluster in table.Clusters)
        {
            Update(cluster.ClusterId);
        }
    }

    /// <summary>Raised after every change of <see cref="Current"/>; handlers must only signal, never block.</summary>
    public event Action? Changed;

    /// <summary>The views now.</summary>
    public HealthViewSnapshot Current => _current;

    /// <summary>Brings one cluster's entry up to date.</summary>
    public void Update(string clusterId)
    {
        bool changed;
        lock (_lock)
        {
            var added = !_builder.Current.Services.ContainsKey(clusterId);
            changed = Apply_NeedsLock(clusterId);

            // A new cluster may be the target a published dependency name could not be matched to yet.
            if (added && changed && _unresolved.Count > 0)
            {
                foreach (var waiting in _unresolved.ToList())
                {
                    Apply_NeedsLock(waiting);
                }
            }

            _current = _builder.Current;
            if (changed)
            {
                PublishCategories_NeedsLock(_current);
            }
        }

        if (changed)
        {
            Changed?.Invoke();
        }
    }

    /// <summary>Feeds the per-category health gauge (1 while the category can serve); critical if any member is.</summary>
    private void PublishCategories_NeedsLock(HealthViewSnapshot snapshot)
    {
        var critical = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in snapshot.Services.Values)
        {
            if (_proxyState.TryGetCluster(service.Service, out var cluster)
                && bool.TryParse(cluster.Model?.Config.Metadata?.GetValueOrDefault(HealthProxyMetadata.Critical), out var isCritical)
                && isCritical)
            {
                critical.Add(service.Category);
            }
        }

        foreach (var (category, view) in snapshot.Categories)
        {
            _gauges.SetCategory(category, view.Health is AggregateHealth.Healthy or AggregateHealth.Degraded, critical.Contains(category));
            _categoriesOnGauge.Add(category);
        }

        _categoriesOnGauge.RemoveWhere(category =>
        {
            if (snapshot.Categories.ContainsKey(category))
            {
                return false;
            }

            _gauges.RemoveCategory(category);
            return true;
        });
    }

    private bool Apply_NeedsLock(string clusterId)
    {
        if (!_table.TryGet(clusterId, out var routing))
        {
            _unresolved.Remove(clusterId);
            return _builder.Remove(clusterId).Changed;
        }

        var healthy = 0;
        foreach (var instance in routing.Instances.Values)
        {
            healthy += instance.RoutingState == HealthState.Healthy ? 1 : 0;
        }

        var metadata = _proxyState.TryGetCluster(clusterId, out var cluster) ? cluster.Model?.Config.Metadata : null;
        _discovery.Published.TryGetValue(clusterId, out var published);
        var category = metadata is not null && metadata.TryGetValue(HealthProxyMetadata.Category, out var configured) && !string.IsNullOrWhiteSpace(configured)
            ? configured
            : published?.Category;
        var input = new ServiceHealthInput(clusterId, category, healthy, routing.All.Count, routing.Reads.Count > 0, DependsOn(clusterId, metadata, published));
        var update = _builder.Apply(input, _timeProvider.GetUtcNow());
        foreach (var cascade in update.NewCascades)
        {
            LogCascadingFailure(cascade.Root, cascade.Affected.Length, string.Join(", ", cascade.Affected));
            _metrics.CascadingFailure(cascade.Root, cascade.Affected.Length);
        }

        return update.Changed;
    }

    /// <summary>
    /// The cluster ids <paramref name="clusterId"/> depends on: those its metadata names, and those its
    /// instances publish, matched by cluster id or by the cluster's Consul service name. Published names
    /// that match no cluster (a database, a cache) are the service's own business and stay out of the graph.
    /// </summary>
    private List<string> DependsOn(string clusterId, IReadOnlyDictionary<string, string>? metadata, PublishedService? published)
    {
        var dependsOn = new List<string>();
        if (metadata is not null && metadata.TryGetValue(HealthProxyMetadata.DependsOn, out var configured))
        {
            dependsOn.AddRange(configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var unresolved = false;
        foreach (var name in published?.Dependencies ?? [])
        {
            if (_table.TryGet(name, out _))
            {
                dependsOn.Add(name);
                continue;
            }

            var matched = false;
            foreach (var (otherCluster, other) in _discovery.Published)
            {
                if (string.Equals(other.ServiceName, name, StringComparison.Ordinal))
                {
                    dependsOn.Add(otherCluster);
                    matched = true;
                }
            }

            unresolved |= !matched;
        }

        if (unresolved)
        {
            _unresolved.Add(clusterId);
        }
        else
        {
            _unresolved.Remove(clusterId);
        }

        return dependsOn;
    }

    [LoggerMessage(EventId = Diagnostics.GatewayEventIds.CascadingFailure, Level = LogLevel.Error,
        Message = "Cascading failure: {Root} is unhealthy and {AffectedCount} services depend on it: {Affected}.")]
    private partial void LogCascadingFailure(string root, int affectedCount, string affected);
}
