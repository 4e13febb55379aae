using System.Text.Json;
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

namespace HealthProxy.Gateway.Tests.Dashboard;

/// <summary>The dashboard's state document: traffic shares, fallback episodes and state history, on the fake clock.</summary>
public sealed class DashboardStateTests : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly RoutingTable _table = new();
    private readonly InstanceHealthStore _store;
    private readonly ConsulDiscovery _discovery;
    private readonly InstanceTraffic _traffic;
    private readonly DashboardState _state;

    public DashboardStateTests()
    {
        var metrics = new GatewayMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _store = new InstanceHealthStore(_table, _time, metrics, NullLogger<InstanceHealthStore>.Instance);
        _discovery = new ConsulDiscovery(_services, _store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), _time, NullLogger<ConsulDiscovery>.Instance);
        var views = new HealthViews(_store, _table, _discovery, _time, metrics, NullLogger<HealthViews>.Instance);
        _traffic = new InstanceTraffic(_time);
        _state = new DashboardState(views, _table, _discovery, new DashboardEventLog(_store, views, _time), _traffic, _time);
    }

    [Fact]
    public void Write_TrafficRecorded_EachInstanceHasItsCountsAndShareOfItsKind()
    {
        var cluster = TestClusters.Create("catalog", ["a", "b"]);
        _store.OnClusterAdded(cluster);
        _traffic.OnClusterAdded(cluster);
        for (var i = 0; i < 3; i++)
        {
            _traffic.Record(cluster.Destinations["a"], RequestKind.Read, fallback: false);
        }

        _traffic.Record(cluster.Destinations["b"], RequestKind.Read, fallback: false);
        _traffic.Record(cluster.Destinations["b"], RequestKind.Write, fallback: false);

        var instances = Service("catalog").GetProperty("instances").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetString()!);

        var a = instances["a"].GetProperty("lastMinute");
        var b = instances["b"].GetProperty("lastMinute");
        Assert.Equal((3, 0, 0.75), (a.GetProperty("reads").GetInt32(), a.GetProperty("writes").GetInt32(), a.GetProperty("readShare").GetDouble()));
        Assert.Equal(JsonValueKind.Number, a.GetProperty("writeShare").ValueKind);
        Assert.Equal(0, a.GetProperty("writeShare").GetDouble());
        Assert.Equal((0.25, 1.0), (b.GetProperty("readShare").GetDouble(), b.GetProperty("writeShare").GetDouble()));
        Assert.Equal(1, instances["a"].GetProperty("readWeight").GetDouble());

        // A minute later the window has moved past every request: counts 0, shares undefined.
        _time.Advance(TimeSpan.FromSeconds(60));
        var later = Service("catalog").GetProperty("instances")[0].GetProperty("lastMinute");
        Assert.Equal(0, later.GetProperty("reads").GetInt32());
        Assert.Equal(JsonValueKind.Null, later.GetProperty("readShare").ValueKind);
    }

    [Fact]
    public void Write_EveryInstanceUnhealthy_FallbackEpisodeAndFallbackRequestsShown()
    {
        var cluster = TestClusters.Create("catalog", ["a"]);
        _store.OnClusterAdded(cluster);
        _traffic.OnClusterAdded(cluster);
        Assert.False(Service("catalog").GetProperty("fallback").GetProperty("reads").GetBoolean());

        _store.Report("catalog", "a", HealthSource.Probe, HealthState.Unhealthy);
        _traffic.Record(cluster.Destinations["a"], RequestKind.Read, fallback: true);

        var service = Service("catalog");
        Assert.True(service.GetProperty("fallback").GetProperty("reads").GetBoolean());
        Assert.True(service.GetProperty("fallback").GetProperty("writes").GetBoolean());
        Assert.Equal("all", service.GetProperty("tiers").GetProperty("reads").GetString());
        Assert.Equal(1, service.GetProperty("instances")[0].GetProperty("lastMinute").GetProperty("fallbacks").GetInt32());
    }

    [Fact]
    public void Write_TieredClusterLosesItsLocalInstance_FailoverTierAndSinceShown()
    {
        _store.OnClusterAdded(TestClusters.CreateTiered("orders", [("local", 0), ("remote", 1)]));
        Assert.Equal(0, Service("orders").GetProperty("failover").GetProperty("writes").GetProperty("tier").GetInt32());

        _time.Advance(TimeSpan.FromSeconds(5));
        _store.Report("orders", "local", HealthSource.Probe, HealthState.Unhealthy);

        var failover = Service("orders").GetProperty("failover");
        Assert.Equal([0, 1], failover.GetProperty("tiers").EnumerateArray().Select(t => t.GetInt32()));
        foreach (var kind in new[] { "reads", "writes" })
        {
            Assert.Equal(1, failover.GetProperty(kind).GetProperty("tier").GetInt32());
            Assert.False(failover.GetProperty(kind).GetProperty("fallback").GetBoolean());
            Assert.Equal(_time.GetUtcNow(), failover.GetProperty(kind).GetProperty("since").GetDateTimeOffset());
        }
    }

    [Fact]
    public void Write_HistoryOlderThanAnHour_StartsAtTheHourWithTheStateItBeganIn()
    {
        _store.OnClusterAdded(TestClusters.Create("catalog", ["a"]));
        _time.Advance(TimeSpan.FromMinutes(1));
        _store.Report("catalog", "a", HealthSource.Probe, HealthState.Unhealthy);
        _time.Advance(TimeSpan.FromMinutes(90));
        _store.Report("catalog", "a", HealthSource.Probe, HealthState.Healthy);
        _time.Advance(TimeSpan.FromMinutes(10));

        var history = Service("catalog").GetProperty("history").EnumerateArray()
            .Select(h => (h.GetProperty("at").GetDateTimeOffset(), h.GetProperty("status").GetString()))
            .ToList();

        var now = _time.GetUtcNow();
        Assert.Equal([(now.AddHours(-1), "unhealthy"), (now.AddMinutes(-10), "healthy")], history);
    }

    private JsonElement Service(string name)
    {
        using var document = JsonDocument.Parse(_state.Write());
        return document.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name).Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await _discovery.DisposeAsync();
        await _services.DisposeAsync();
    }
}
