using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// The observable instruments over the gateway's current state, read on each scrape (never on the
/// request path): instances by state, service/dependency/category health, time degraded, registry.
/// </summary>
/// <remarks>
/// Service health is 1 while a service can serve (its aggregate is healthy or degraded: more than half of
/// its instances healthy) and 0 when it cannot (unhealthy, or no instances). Values published through
/// <see cref="ServiceHealthGauges"/> replace the computed ones of the same name.
/// </remarks>
internal sealed class HealthGauges
{
    private static readonly HealthState[] States = Enum.GetValues<HealthState>();
    private static readonly string[] StateNames = [.. States.Select(s => s.ToWireName())];
    private const string Unknown = "unknown";

    private readonly RoutingTable _table;
    private readonly DegradedTimeTracker _degraded;
    private readonly ServiceHealthGauges _published;
    private readonly ConsulDiscovery _discovery;
    private readonly IServiceProvider _services;

    public HealthGauges(GatewayMetrics metrics, RoutingTable table, DegradedTimeTracker degraded, ServiceHealthGauges published, ConsulDiscovery discovery, IServiceProvider services)
    {
        _table = table;
        _degraded = degraded;
        _published = published;
        _discovery = discovery;
        _services = services;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("healthproxy.instances", ObserveInstances, "{instance}", "Instances per cluster by state (unknown: not judged yet, routed as healthy).");
        meter.CreateObservableGauge("healthproxy.service.health", ObserveServices, unit: null, "1 while the service can serve (healthy or degraded), 0 when unhealthy or empty; by service, category, critical.");
        meter.CreateObservableGauge("healthproxy.dependency.health", ObserveDependencies, unit: null, "1 while a dependency its instances publish is healthy or degraded, 0 otherwise; by service, dependency, critical.");
        meter.CreateObservableGauge("healthproxy.category.health", ObserveCategories, unit: null, "1 while a category of services can serve, 0 when unhealthy; published by the views.");
        meter.CreateObservableCounter("healthproxy.service.degraded.time", ObserveDegradedTime, "s", "Time each service spent degraded (some, but fewer than half, of its instances not healthy).");
        meter.CreateObservableGauge("healthproxy.registry.reachable", ObserveReachable, unit: null, "1 when Consul's last answer for the service succeeded, 0 otherwise.");
        meter.CreateObservableGauge("healthproxy.registry.stale", ObserveStale, unit: null, "1 while the service is served from a snapshot too old for Consul's states to count.");
        meter.CreateObservableGauge("healthproxy.registry.data_age", ObserveDataAge, "s", "Time since Consul last answered for the service.");
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
                measurements.Add(new(counts[i], new(GatewayTags.Cluster, cluster.ClusterId), new(GatewayTags.State, i < States.Length ? StateNames[i] : Unknown)));
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<int>> ObserveServices()
    {
        var published = _published.Services();
        var measurements = new List<Measurement<int>>();
        foreach (var (service, entry) in published)
        {
            measurements.Add(ServiceMeasurement(service, entry.Serving, entry.Category, entry.Critical));
        }

        var lookup = _services.GetService<IProxyStateLookup>();
        foreach (var cluster in _table.Clusters)
        {
            if (published.Exists(p => p.Key == cluster.ClusterId))
            {
                continue;
            }

            IReadOnlyDictionary<string, string>? metadata = null;
            if (lookup?.TryGetCluster(cluster.ClusterId, out var state) == true)
            {
                metadata = state.Model.Config.Metadata;
            }

            var category = metadata?.GetValueOrDefault(HealthProxyMetadata.Category) ?? "";
            var critical = bool.TryParse(metadata?.GetValueOrDefault(HealthProxyMetadata.Critical), out var isCritical) && isCritical;
            var aggregate = DegradedTimeTracker.Aggregate(cluster);
            measurements.Add(ServiceMeasurement(cluster.ClusterId, aggregate is AggregateHealth.Healthy or AggregateHealth.Degraded, category, critical));
        }

        return measurements;
    }

    private IEnumerable<Measurement<int>> ObserveDependencies()
    {
        var published = _published.Dependencies();
        var measurements = new List<Measurement<int>>();
        foreach (var ((service, dependency), entry) in published)
        {
            measurements.Add(DependencyMeasurement(service, dependency, entry.Serving, entry.Critical));
        }

        foreach (var known in _discovery.PublishedDependencies)
        {
            if (!published.Exists(p => p.Key == (known.ClusterId, known.Dependency)))
            {
                measurements.Add(DependencyMeasurement(known.ClusterId, known.Dependency, known.State.Accepts(RequestKind.Read), known.Critical));
            }
        }

        return measurements;
    }

    private IEnumerable<Measurement<int>> ObserveCategories() =>
        [.. _published.Categories().Select(pair => new Measurement<int>(
            pair.Value.Serving ? 1 : 0, new(GatewayTags.Category, pair.Key), new(GatewayTags.Critical, pair.Value.Critical ? "true" : "false")))];

    private IEnumerable<Measurement<double>> ObserveDegradedTime() =>
        [.. _degraded.Totals().Select(t => new Measurement<double>(t.Seconds, new KeyValuePair<string, object?>(GatewayTags.Service, t.ClusterId)))];

    private IEnumerable<Measurement<int>> ObserveReachable() =>
        [.. _discovery.Status.Select(s => new Measurement<int>(s.Reachable ? 1 : 0, new KeyValuePair<string, object?>(GatewayTags.ConsulService, s.Service)))];

    private IEnumerable<Measurement<int>> ObserveStale() =>
        [.. _discovery.Status.Select(s => new Measurement<int>(s.Stale ? 1 : 0, new KeyValuePair<string, object?>(GatewayTags.ConsulService, s.Service)))];

    // Before Consul's first answer there is no age to report: the series starts with the first answer.
    private IEnumerable<Measurement<double>> ObserveDataAge() =>
        [.. _discovery.Status.Where(s => s.DataAge is not null)
            .Select(s => new Measurement<double>(s.DataAge!.Value.TotalSeconds, new KeyValuePair<string, object?>(GatewayTags.ConsulService, s.Service)))];

    private static Measurement<int> ServiceMeasurement(string service, bool serving, string category, bool critical) =>
        new(serving ? 1 : 0, new(GatewayTags.Service, service), new(GatewayTags.Category, category), new(GatewayTags.Critical, critical ? "true" : "false"));

    private static Measurement<int> DependencyMeasurement(string service, string dependency, bool serving, bool critical) =>
        new(serving ? 1 : 0, new(GatewayTags.Service, service), new(GatewayTags.Dependency, dependency), new(GatewayTags.Critical, critical ? "true" : "false"));
}
