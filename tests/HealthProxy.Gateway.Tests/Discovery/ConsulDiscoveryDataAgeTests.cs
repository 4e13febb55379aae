using System.Diagnostics.Metrics;
using HealthProxy.Consul;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Discovery;

/// <summary>The registry data age the gauges and views read: time since Consul last confirmed the data.</summary>
public sealed class ConsulDiscoveryDataAgeTests
{
    [Fact]
    public async Task Status_QuietConsulHoldsTheQueryForMinutes_DataAgeStaysZero_ThenGrowsFromTheFailure()
    {
        var time = new FakeTimeProvider();
        var consul = new FakeConsul();
        consul.SetInstances("orders", "o1");
        await using var services = new ServiceCollection().AddLogging().AddMetrics().AddSingleton<IConsulClient>(consul).BuildServiceProvider();
        var store = new InstanceHealthStore(new RoutingTable(), time, new GatewayMetrics(services.GetRequiredService<IMeterFactory>()), NullLogger<InstanceHealthStore>.Instance);
        await using var discovery = new ConsulDiscovery(services, store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), time, NullLogger<ConsulDiscovery>.Instance);
        await discovery.StartAsync(CancellationToken.None);
        discovery.Bind("orders", new ServiceSelection("orders", "", null, null, null));
        await Eventually.HoldsAsync(() => consul.Open("orders") == 1, "the watch parked a blocking query");

        Advance(time, TimeSpan.FromMinutes(4));
        var quiet = Assert.Single(discovery.Status);
        Assert.Equal(TimeSpan.Zero, quiet.DataAge);
        Assert.True(quiet.Reachable);

        consul.GoDown();
        await Eventually.HoldsAsync(() => !discovery.Status[0].Reachable, "the open query failed");
        Advance(time, TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(20), discovery.Status[0].DataAge);
    }

    // The staleness check and the watch's retries run on the clock: move it a second at a time.
    private static void Advance(FakeTimeProvider time, TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }
}
