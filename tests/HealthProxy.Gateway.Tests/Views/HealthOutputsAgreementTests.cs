using System.Diagnostics.Metrics;
using System.Text.Json;
using CsCheck;
using Grpc.Health.V1;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using HealthProxy.Health.Views;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Views;

/// <summary>
/// Random clusters in random states, fed through the real store and views: the snapshot follows the documented
/// rules, and every output (gauges, gRPC health, the dashboard document) says what the snapshot says.
/// </summary>
public sealed class HealthOutputsAgreementTests
{
    private static readonly HealthState?[] States = [null, HealthState.Healthy, HealthState.Degraded, HealthState.Starting, HealthState.Draining, HealthState.Unhealthy];

    private sealed record Cluster(string Id, string? Category, bool Critical, HealthState?[] Instances, int[] DependsOn);

    private static readonly Gen<Cluster[]> Clusters =
        Gen.Int[1, 8].SelectMany(count => Gen.Select(
                Gen.Int[0, 2].Select(i => i == 0 ? null : i == 1 ? "payments" : "shop"),
                Gen.Bool,
                Gen.Int[0, States.Length - 1].Array[0, 5],
                Gen.Int[0, count - 1].Array[0, 3])
            .Array[count]
            .Select(specs => specs.Select((spec, i) => new Cluster($"svc{i}", spec.Item1, spec.Item2, [.. spec.Item3.Select(s => States[s])], spec.Item4)).ToArray()));

    [Fact]
    public void RandomClusterStates_EveryOutputAgreesWithTheSnapshotAndTheRules()
    {
        Clusters.Sample(clusters =>
        {
            using var rig = new Rig();
            foreach (var cluster in clusters)
            {
                var metadata = new Dictionary<string, string>
                {
                    [HealthProxyMetadata.Critical] = cluster.Critical ? "true" : "false",
                    [HealthProxyMetadata.DependsOn] = string.Join(",", cluster.DependsOn.Select(d => $"svc{d}")),
                };
                if (cluster.Category is { } category)
                {
                    metadata[HealthProxyMetadata.Category] = category;
                }

                rig.Store.OnClusterAdded(TestClusters.Create(cluster.Id, cluster.Instances.Select((_, i) => $"i{i}"), metadata));
                for (var i = 0; i < cluster.Instances.Length; i++)
                {
                    rig.Store.Report(cluster.Id, $"i{i}", HealthSource.Probe, cluster.Instances[i]);
                }
            }

            var snapshot = rig.Views.Current;
            foreach (var cluster in clusters)
            {
                var view = snapshot.Services[cluster.Id];
                Assert.Equal(Rule(cluster.Instances), view.Health);
                Assert.Equal(cluster.Category ?? HealthViewBuilder.Uncategorized, view.Category);
                Assert.Equal(cluster.Critical, view.Critical);
                Assert.Equal(view.Health is AggregateHealth.Healthy or AggregateHealth.Degraded, view.Serving);
            }

            foreach (var (category, group) in snapshot.Categories)
            {
                Assert.Equal(Majority(snapshot.Services.Values.Where(s => s.Category == category)), group);
            }

            Assert.Equal(Majority(snapshot.Services.Values), snapshot.Overall);
            Assert.All(snapshot.Cascades.Keys, root => Assert.Equal(AggregateHealth.Unhealthy, snapshot.Services[root].Health));

            var gauges = rig.Collect();
            foreach (var view in snapshot.Services.Values)
            {
                Assert.Equal((view.Serving ? 1 : 0, view.Category, view.Critical ? "true" : "false"), gauges.Services[view.Service]);
                Assert.Equal(view.Serving ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing,
                    GatewayGrpcHealthService.StatusOf(snapshot, view.Service));
            }

            Assert.Equal(snapshot.Services.Count, gauges.Services.Count);
            Assert.Equal(snapshot.Categories.ToDictionary(c => c.Key, c => (c.Value.IsServing ? 1 : 0, c.Value.Critical > 0 ? "true" : "false")), gauges.Categories);

            using var dashboard = JsonDocument.Parse(rig.Dashboard.Write());
            Assert.Equal(HealthViewJson.Name(snapshot.Overall.Health), dashboard.RootElement.GetProperty("overall").GetProperty("status").GetString());
            foreach (var service in dashboard.RootElement.GetProperty("services").EnumerateArray())
            {
                var view = snapshot.Services[service.GetProperty("name").GetString()!];
                Assert.Equal(HealthViewJson.Name(view.Health), service.GetProperty("status").GetString());
                Assert.Equal(view.Serving, service.GetProperty("serving").GetBoolean());
                Assert.Equal(view.Category, service.GetProperty("category").GetString());
            }
        }, iter: 300);
    }

    /// <summary>The service rule as docs/routing.md's table states it.</summary>
    private static AggregateHealth Rule(HealthState?[] instances)
    {
        if (instances.Length == 0)
        {
            return AggregateHealth.Unknown;
        }

        // An instance no source has judged yet is routed, and counted, as healthy.
        if (instances.All(s => s is null or HealthState.Healthy))
        {
            return AggregateHealth.Healthy;
        }

        return instances.Any(s => s is null or HealthState.Healthy or HealthState.Degraded) ? AggregateHealth.Degraded : AggregateHealth.Unhealthy;
    }

    /// <summary>The group rule as docs/routing.md's table states it: all healthy, more than half serving, or not.</summary>
    private static GroupHealthView Majority(IEnumerable<ServiceHealthView> services)
    {
        var judged = services.Where(s => s.Health != AggregateHealth.Unknown).ToList();
        var critical = services.Count(s => s.Critical);
        var healthy = judged.Count(s => s.Health == AggregateHealth.Healthy);
        var serving = judged.Count(s => s.Health is AggregateHealth.Healthy or AggregateHealth.Degraded);
        var health = judged.Count == 0 ? AggregateHealth.Unknown
            : healthy == judged.Count ? AggregateHealth.Healthy
            : serving * 2 > judged.Count ? AggregateHealth.Degraded
            : AggregateHealth.Unhealthy;
        return new GroupHealthView(health, healthy, serving, judged.Count, critical);
    }

    private sealed class Rig : IDisposable
    {
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        private readonly GatewayMetrics _metrics;
        private readonly ConsulDiscovery _discovery;

        public Rig()
        {
            var time = new FakeTimeProvider();
            var table = new RoutingTable();
            _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
            Store = new InstanceHealthStore(table, time, _metrics, NullLogger<InstanceHealthStore>.Instance);
            _discovery = new ConsulDiscovery(_services, Store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), time, NullLogger<ConsulDiscovery>.Instance);
            Views = new HealthViews(Store, table, _discovery, time, _metrics, NullLogger<HealthViews>.Instance);
            _ = new HealthGauges(_metrics, table, Views, _discovery, time);
            Traffic = new InstanceTraffic(time);
            Dashboard = new DashboardState(Views, table, _discovery, new DashboardEventLog(Store, Views, time), Traffic, time);
        }

        public InstanceHealthStore Store { get; }

        public HealthViews Views { get; }

        public DashboardState Dashboard { get; }

        public InstanceTraffic Traffic { get; }

        public (Dictionary<string, (int, string, string)> Services, Dictionary<string, (int, string)> Categories) Collect()
        {
            var services = new Dictionary<string, (int, string, string)>(StringComparer.Ordinal);
            var categories = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == _metrics.Meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            {
                var tag = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
                if (instrument.Name == "healthproxy.service.health")
                {
                    services.Add(tag[GatewayTags.Service]!, (value, tag[GatewayTags.Category]!, tag[GatewayTags.Critical]!));
                }
                else if (instrument.Name == "healthproxy.category.health")
                {
                    categories.Add(tag[GatewayTags.Category]!, (value, tag[GatewayTags.Critical]!));
                }
            });
            listener.Start();
            listener.RecordObservableInstruments();
            return (services, categories);
        }

        public void Dispose()
        {
            _discovery.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _services.Dispose();
        }
    }
}
