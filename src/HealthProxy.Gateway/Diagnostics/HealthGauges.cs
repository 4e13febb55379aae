using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// The observable instruments over the gateway's current state, read on each scrape (never on the request
/// path) from the snapshots their owners publish: instance counts from the routing table, service and category
/// health from <see cref="HealthViews"/>, dependencies and registry status from <see cref="ConsulDiscovery"/>.
/// A series exists exactly as long as its cluster, category, dependency or watch does.
/// </summary>
internal sealed class HealthGauges
{
    private static readonly HealthState[] States = Enum.GetValues<HealthState>();
    private static readonly string[] StateNames = [.. States.Select(s => s.ToWireName())];
    private const string Unjudged = "unknown";

    private readonly RoutingTable _table;
    private readonly HealthViews _views;
    private readonly ConsulDiscovery _discovery;
    private readonly TimeProvider _timeProvider;

    public HealthGauges(GatewayMetrics metrics, RoutingTable table, HealthViews views, ConsulDiscovery discovery, TimeProvider timeProvider)
    {
        _table = table;
        _views = views;
        _discovery = discovery;
        _timeProvider = timeProvider;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("healthproxy.instances", ObserveInstances, "{instance}", "Instances per cluster by state (unknown: not judged yet, routed as healthy).");
        meter.CreateObservableGauge("healthproxy.instance.weight", ObserveWeights, unit: null, "Each instance's effective weight for reads and for writes (0: takes none), slow start included; by cluster, destination, request kind.");
        meter.CreateObservableGauge("healthproxy.instance.slow_start", ObserveSlowStart, unit: null, "The slow-start factor (0.1 to 1) of each instance ramping up; by cluster, destination.");
        meter.CreateObservableGauge("healthproxy.instance.degraded_in_flight", ObserveDegradedInFlight, "{request}", "Requests in flight to each degraded instance that takes reads; by cluster, destination.");
        meter.CreateObservableGauge("healthproxy.failover.active", ObserveFailover, unit: null, "1 for the failover tier that serves each request kind of a cluster (0 = local), 0 for its other tiers; by cluster, request kind, tier.");
        meter.CreateObservableGauge("healthproxy.service.health", ObserveServices, unit: null, "1 while the service serves (healthy or degraded: an instance takes reads), 0 when it cannot; by service, category, critical.");
        meter.CreateObservableGauge("healthproxy.dependency.health", ObserveDependencies, unit: null, "1 while a dependency its instances publish is healthy or degraded, 0 otherwise; by service, dependency, critical.");
        meter.CreateObservableGauge("healthproxy.category.health", ObserveCategories, unit: null, "1 while a category serves (more than half its services serve), 0 when it cannot; critical if any member is.");
        meter.CreateObservableCounter("healthproxy.service.degraded.time", ObserveDegradedTime, "s", "Time each service spent degraded (serving, but not every instance healthy).");
        meter.CreateObservableGauge("healthproxy.registry.reachable", ObserveReachable, unit: null, "1 when Consul's last answer for the service succeeded, 0 otherwise.");
        meter.CreateObservableGauge("healthproxy.registry.stale", ObserveStale, unit: null, "1 while the service is served from a snapshot too old for Consul's states to count.");
        meter.CreateObservableGauge("healthproxy.registry.data_age", ObserveDataAge, "s", "Time since Consul last confirmed the service's data.");
    }

    private IEnumerable<Measurement<long>> ObserveInstances()
    {
        var measurements = new List<Measurement<long>>();
        Span<int> counts = stackalloc int[States.Length + 1];
        foreach (var cluster in _table.Clusters)
        {
            counts.Clear();
            foreach (var instance in cluster.Instances.Values)
            {
                counts[instance.State is { } state ? (int)state : States.Length]++;
            }

            // Every state, zeros included: a series that drops to 0 says more than one that vanishes.
            for (var i = 0; i <= States.Length; i++)
            {
                measurements.Add(new(counts[i], new(GatewayTags.Cluster, cluster.ClusterId), new(GatewayTags.State, i < States.Length ? StateNames[i] : Unjudged)));
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<double>> ObserveWeights()
    {
        var now = _timeProvider.GetUtcNow();
        var measurements = new List<Measurement<double>>();
        foreach (var cluster in _table.Clusters)
        {
            foreach (var weight in cluster.Weights(now))
            {
                measurements.Add(new(weight.Read, new(GatewayTags.Cluster, cluster.ClusterId), new(GatewayTags.Destination, weight.DestinationId), new(GatewayTags.RequestKind, "read")));
                measurements.Add(new(weight.Write, new(GatewayTags.Cluster, cluster.ClusterId), new(GatewayTags.Destination, weight.DestinationId), new(GatewayTags.RequestKind, "write")));
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<double>> ObserveSlowStart()
    {
        var now = _timeProvider.GetUtcNow();
        return [.. _table.Clusters.SelectMany(cluster => cluster.Weights(now)
            .Where(weight => weight.SlowStart < 1)
            .Select(weight => new Measurement<double>(weight.SlowStart, new(GatewayTags.Cluster, cluster.ClusterId), new(GatewayTags.Destination, weight.DestinationId))))];
    }

    private IEnumerable<Measurement<int>> ObserveDegradedInFlight() =>
        [.. _table.Clusters.SelectMany(cluster => Enumerable.Range(0, cluster.ReadSet.Count)
            .Where(i => cluster.ReadSet.Degraded[i])
            .Select(i => new Measurement<int>(
                cluster.ReadSet.Destinations[i].ConcurrentRequestCount,
                new(GatewayTags.Cluster, cluster.ClusterId),
                new(GatewayTags.Destination, cluster.ReadSet.Destinations[i].DestinationId))))];

    private IEnumerable<Measurement<int>> ObserveFailover()
    {
        var measurements = new List<Measurement<int>>();
        foreach (var cluster in _table.Clusters)
        {
            foreach (var kind in (ReadOnlySpan<RequestKind>)[RequestKind.Read, RequestKind.Write])
            {
                var serving = cluster.ServingTier(kind);
                foreach (var tier in cluster.Tiers)
                {
                    measurements.Add(new(
                        tier == serving ? 1 : 0,
                        new(GatewayTags.Cluster, cluster.ClusterId),
                        new(GatewayTags.RequestKind, GatewayMetrics.KindName(kind)),
                        new(GatewayTags.Tier, GatewayMetrics.TierName(tier))));
                }
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<int>> ObserveServices() =>
        [.. _views.Current.Services.Values.Select(service => new Measurement<int>(
            service.Serving ? 1 : 0,
            new(GatewayTags.Service, service.Service),
            new(GatewayTags.Category, service.Category),
            new(GatewayTags.Critical, service.Critical ? "true" : "false")))];

    private IEnumerable<Measurement<int>> ObserveCategories() =>
        [.. _views.Current.Categories.Select(pair => new Measurement<int>(
            pair.Value.IsServing ? 1 : 0,
            new(GatewayTags.Category, pair.Key),
            new(GatewayTags.Critical, pair.Value.Critical > 0 ? "true" : "false")))];

    private IEnumerable<Measurement<double>> ObserveDegradedTime()
    {
        var now = _timeProvider.GetUtcNow();
        return [.. _views.Current.Services.Values.Select(service => new Measurement<double>(
            service.DegradedTime(now).TotalSeconds, new KeyValuePair<string, object?>(GatewayTags.Service, service.Service)))];
    }

    private IEnumerable<Measurement<int>> ObserveDependencies() =>
        [.. _discovery.PublishedDependencies.Select(known => new Measurement<int>(
            known.State.Accepts(RequestKind.Read) ? 1 : 0,
            new(GatewayTags.Service, known.ClusterId),
            new(GatewayTags.Dependency, known.Dependency),
            new(GatewayTags.Critical, known.Critical ? "true" : "false")))];

    private IEnumerable<Measurement<int>> ObserveReachable() =>
        [.. _discovery.Status.Select(s => new Measurement<int>(s.Reachable ? 1 : 0, RegistryTags(s)))];

    private IEnumerable<Measurement<int>> ObserveStale() =>
        [.. _discovery.Status.Select(s => new Measurement<int>(s.Stale ? 1 : 0, RegistryTags(s)))];

    // Before Consul's first answer there is no age to report: the series starts with the first answer.
    private IEnumerable<Measurement<double>> ObserveDataAge() =>
        [.. _discovery.Status.Where(s => s.DataAge is not null)
            .Select(s => new Measurement<double>(s.DataAge!.Value.TotalSeconds, RegistryTags(s)))];

    /// <summary>A watch's tags: its service, and its datacenter when it names one (a failover datacenter's watch always does).</summary>
    private static KeyValuePair<string, object?>[] RegistryTags(RegistryStatus status) =>
        status.Datacenter is { } datacenter
            ? [new(GatewayTags.ConsulService, status.Service), new(GatewayTags.Datacenter, datacenter)]
            : [new(GatewayTags.ConsulService, status.Service)];
}
