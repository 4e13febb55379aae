using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Views;

public sealed class HealthViewsTests : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly InstanceHealthStore _store;
    private readonly ConsulDiscovery _discovery;
    private readonly HealthViews _views;
    private readonly DashboardEventLog _events;

    public HealthViewsTests()
    {
        var table = new RoutingTable();
        var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(table, _time, metrics, NullLogger<InstanceHealthStore>.Instance);
        _discovery = new ConsulDiscovery(_services, _store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), _time, NullLogger<ConsulDiscovery>.Instance);
        _views = new HealthViews(_store, table, _discovery, _time, metrics, NullLogger<HealthViews>.Instance);
        _events = new DashboardEventLog(_store, _views, _time);
    }

    [Fact]
    public void OneHealthyOneDegraded_ServiceDegradedAndServing_OverallNotUnhealthy()
    {
        _store.OnClusterAdded(TestClusters.Create("catalog", ["a", "b"]));

        _store.Report("catalog", "b", HealthSource.Probe, HealthState.Degraded);

        var catalog = _views.Current.Services["catalog"];
        Assert.Equal(AggregateHealth.Degraded, catalog.Health);
        Assert.True(catalog.Serving);
        Assert.Equal(AggregateHealth.Degraded, _views.Current.Overall.Health);
        Assert.Equal(1, _views.Current.Overall.Serving);
        Assert.Empty(_views.Current.Cascades);
    }

    [Fact]
    public void ConfiguredDependency_RootCannotServe_OneCascadeAndOneDashboardLine()
    {
        _store.OnClusterAdded(TestClusters.Create("payment", ["p1"]));
        _store.OnClusterAdded(TestClusters.Create("checkout", ["c1"], new Dictionary<string, string> { [HealthProxyMetadata.DependsOn] = "payment" }));

        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Unhealthy);

        var cascade = Assert.Single(_views.Current.Cascades.Values);
        Assert.Equal("payment", cascade.Root);
        Assert.Equal(["checkout"], cascade.Affected.AsEnumerable());
        var line = Assert.Single(_events.Recent(), e => e.Kind == "cascade");
        Assert.Equal("cascading failure: 1 dependent service potentially affected (checkout)", line.Text);
    }

    [Fact]
    public void UpstreamRootRecovers_DownstreamStillDown_NoSecondCascadeLine_AsTheLogAndMetricSay()
    {
        _store.OnClusterAdded(TestClusters.Create("payment", ["p1"]));
        _store.OnClusterAdded(TestClusters.Create("checkout", ["c1"], new Dictionary<string, string> { [HealthProxyMetadata.DependsOn] = "payment" }));
        _store.OnClusterAdded(TestClusters.Create("cart", ["k1"], new Dictionary<string, string> { [HealthProxyMetadata.DependsOn] = "checkout" }));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Unhealthy);
        _store.Report("checkout", "c1", HealthSource.Probe, HealthState.Unhealthy);

        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Healthy);

        // checkout is a root now, but it failed inside payment's blast radius: part of that cascade, not a new one.
        Assert.Equal(["checkout"], _views.Current.Cascades.Keys);
        Assert.Equal(["payment"], _events.Recent().Where(e => e.Kind == "cascade").Select(e => e.Subject));
        Assert.Contains(_events.Recent(), e => e is { Kind: "recovered", Subject: "payment", Text: "cascading failure over" });
    }

    [Fact]
    public void CannotServeWithNoDependents_NoCascadeLine()
    {
        _store.OnClusterAdded(TestClusters.Create("lonely", ["a"]));

        _store.Report("lonely", "a", HealthSource.Probe, HealthState.Unhealthy);

        Assert.Equal(AggregateHealth.Unhealthy, _views.Current.Services["lonely"].Health);
        Assert.DoesNotContain(_events.Recent(), e => e.Kind == "cascade");
    }

    [Fact]
    public void ClusterRemoved_ItsServiceCategoryAndEdgesGo()
    {
        var payments = TestClusters.Create("payment", ["p1"], new Dictionary<string, string> { [HealthProxyMetadata.Category] = "payments" });
        _store.OnClusterAdded(payments);
        _store.OnClusterAdded(TestClusters.Create("checkout", ["c1"], new Dictionary<string, string> { [HealthProxyMetadata.DependsOn] = "payment" }));

        _store.OnClusterRemoved(payments);

        Assert.False(_views.Current.Services.ContainsKey("payment"));
        Assert.False(_views.Current.Categories.ContainsKey("payments"));
        Assert.Contains(_events.Recent(), e => e is { Kind: "removed", Subject: "payment" });
    }

    [Fact]
    public void Events_BreakerEjectsAndInstanceLeaves_OneLineEachWithoutUnknownNoise()
    {
        var cluster = TestClusters.Create("svc", ["a", "b"]);
        _store.OnClusterAdded(cluster);

        _store.Report("svc", "a", HealthSource.Breaker, HealthState.Unhealthy);
        _store.Report("svc", "b", HealthSource.Registry, HealthState.Draining);
        _store.Report("svc", "b", HealthSource.Registry, null);
        _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ["a"]));

        var events = _events.Recent().Reverse().Where(e => e.Subject.Contains('/', StringComparison.Ordinal)).Select(e => (e.Kind, e.Subject, e.Text)).ToList();
        Assert.Equal(
            [
                ("ejection", "svc/a", "ejected by the circuit breaker (was unjudged)"),
                ("transition", "svc/b", "unjudged → draining (consul)"),
                ("left", "svc/b", "left the cluster (was unjudged)"),
            ],
            events);
        Assert.DoesNotContain(_events.Recent(), e => e.Text.Contains("unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void Events_WritesThenReadsLoseEveryInstance_FallbackLinesOncePerEpisode()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a"]));

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Degraded);
        _store.Report("svc", "a", HealthSource.Registry, HealthState.Starting);
        _store.Report("svc", "a", HealthSource.Registry, HealthState.Draining);
        _store.Report("svc", "a", HealthSource.Registry, null);

        var fallbacks = _events.Recent().Reverse().Where(e => e.Kind is "fallback" or "recovered").Select(e => e.Text).ToList();
        Assert.Equal(
            [
                "no instance eligible for writes: falling back to all instances",
                "no instance eligible for reads: falling back to all instances",
                "reads have an eligible instance again",
            ],
            fallbacks);
    }

    public async ValueTask DisposeAsync()
    {
        await _discovery.DisposeAsync();
        await _services.DisposeAsync();
    }
}
