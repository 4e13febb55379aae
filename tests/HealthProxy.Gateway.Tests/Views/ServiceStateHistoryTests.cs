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

/// <summary>The per-service state history <see cref="HealthViews"/> keeps as it judges each change.</summary>
public sealed class ServiceStateHistoryTests : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly InstanceHealthStore _store;
    private readonly ConsulDiscovery _discovery;
    private readonly HealthViews _views;

    public ServiceStateHistoryTests()
    {
        var table = new RoutingTable();
        var metrics = new GatewayMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _store = new InstanceHealthStore(table, _time, metrics, NullLogger<InstanceHealthStore>.Instance);
        _discovery = new ConsulDiscovery(_services, _store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), _time, NullLogger<ConsulDiscovery>.Instance);
        _views = new HealthViews(_store, table, _discovery, _time, metrics, NullLogger<HealthViews>.Instance);
    }

    [Fact]
    public void ServiceFlaps_HistoryHasEveryChangeOldestFirst()
    {
        var start = _time.GetUtcNow();
        _store.OnClusterAdded(TestClusters.Create("payment", ["p1", "p2"]));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Healthy);
        _store.Report("payment", "p2", HealthSource.Probe, HealthState.Healthy);
        _time.Advance(TimeSpan.FromSeconds(10));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Unhealthy);
        _time.Advance(TimeSpan.FromSeconds(5));
        _store.Report("payment", "p2", HealthSource.Probe, HealthState.Unhealthy);
        _time.Advance(TimeSpan.FromSeconds(5));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Healthy);
        _time.Advance(TimeSpan.FromSeconds(1));
        _store.Report("payment", "p2", HealthSource.Probe, HealthState.Healthy);

        var history = _views.History.Current["payment"];

        Assert.Equal(
            [
                new ServiceStateChange(start, AggregateHealth.Healthy),
                new ServiceStateChange(start.AddSeconds(10), AggregateHealth.Degraded),
                new ServiceStateChange(start.AddSeconds(15), AggregateHealth.Unhealthy),
                new ServiceStateChange(start.AddSeconds(20), AggregateHealth.Degraded),
                new ServiceStateChange(start.AddSeconds(21), AggregateHealth.Healthy),
            ],
            history.AsEnumerable());
    }

    [Fact]
    public void ChangesOlderThanAnHour_Dropped_TheStateTheHourBeganInKept()
    {
        _store.OnClusterAdded(TestClusters.Create("payment", ["p1"]));
        _time.Advance(TimeSpan.FromMinutes(10));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Unhealthy);
        var down = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromHours(2));

        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(
            [new ServiceStateChange(down, AggregateHealth.Unhealthy), new ServiceStateChange(_time.GetUtcNow(), AggregateHealth.Healthy)],
            _views.History.Current["payment"].AsEnumerable());
    }

    [Fact]
    public void ServiceFlapsMoreThanCapacity_KeepsTheLatestChanges()
    {
        _store.OnClusterAdded(TestClusters.Create("payment", ["p1"]));
        for (var i = 0; i < ServiceStateHistory.Capacity * 2; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _store.Report("payment", "p1", HealthSource.Probe, i % 2 == 0 ? HealthState.Unhealthy : HealthState.Healthy);
        }

        var history = _views.History.Current["payment"];

        Assert.Equal(ServiceStateHistory.Capacity, history.Length);
        Assert.Equal(new ServiceStateChange(_time.GetUtcNow(), AggregateHealth.Healthy), history[^1]);
        Assert.Equal(AggregateHealth.Unhealthy, history[^2].Health);
    }

    [Fact]
    public void ServiceLeaves_ItsHistoryGoesWithIt()
    {
        var payment = TestClusters.Create("payment", ["p1"]);
        _store.OnClusterAdded(payment);
        _store.OnClusterAdded(TestClusters.Create("checkout", ["c1"]));
        _store.Report("payment", "p1", HealthSource.Probe, HealthState.Unhealthy);

        _store.OnClusterRemoved(payment);

        Assert.False(_views.History.Current.ContainsKey("payment"));
        Assert.True(_views.History.Current.ContainsKey("checkout"));
    }

    public async ValueTask DisposeAsync()
    {
        await _discovery.DisposeAsync();
        await _services.DisposeAsync();
    }
}
