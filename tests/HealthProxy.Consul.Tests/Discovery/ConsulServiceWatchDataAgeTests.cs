using HealthProxy.Consul.Discovery;
using HealthProxy.Consul.Simulator;
using HealthProxy.Testing;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Discovery;

/// <summary>How old a watch's data is: an open blocking query confirms it, so only failures age it.</summary>
public sealed class ConsulServiceWatchDataAgeTests
{
    [Fact]
    public async Task DataAge_QuietServiceThroughWholeBlockingWaits_StaysZero_ThenGrowsOnlyWhileConsulFails()
    {
        var clock = new FakeTimeProvider();
        await using var simulator = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { TimeProvider = clock });
        simulator.RegisterService(new SimulatedService { Name = "web", ID = "web-1", Port = 8080, Checks = [new SimulatedCheck { CheckID = "web-1-ttl", Status = "passing" }] });
        await using var watch = new ConsulServiceWatch(
            TestClients.For(simulator.Address),
            new ConsulServiceWatchOptions { ServiceName = "web", Wait = TimeSpan.FromMinutes(5), RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(2) },
            clock);
        watch.Start();
        await Eventually.HoldsAsync(() => simulator.BlockedQueries == 1, "the watch parked a blocking query");

        // Four quiet minutes with the query open: Consul would have answered any change at once.
        await AdvanceAsync(clock, TimeSpan.FromMinutes(4));
        Assert.Equal(TimeSpan.Zero, watch.Status.DataAge(clock.GetUtcNow()));

        // Past the wait (and Consul's jitter): the same index comes back, a confirmation; the next query parks.
        await AdvanceAsync(clock, TimeSpan.FromMinutes(2));
        await Eventually.HoldsAsync(() => simulator.Requests.Count(r => r.Path == "/v1/health/service/web") >= 2 && simulator.BlockedQueries == 1, "the wait ended unchanged and the watch parked again");
        Assert.Equal(TimeSpan.Zero, watch.Status.DataAge(clock.GetUtcNow()));
        Assert.Single(simulator.Requests.Select(r => r.AnsweredIndex).Distinct());

        // Consul goes away: the data was confirmed until the open query failed, and ages from there.
        await simulator.StopAsync();
        await Eventually.HoldsAsync(() => !watch.Status.IsReachable, "the open query failed");
        var failedAt = clock.GetUtcNow();
        await AdvanceAsync(clock, TimeSpan.FromSeconds(30));
        Assert.Equal(failedAt, watch.Status.LastConfirmed);
        Assert.Equal(TimeSpan.FromSeconds(30), watch.Status.DataAge(clock.GetUtcNow()));
    }

    // Small steps, each given a moment, so the token bucket, the retries and the simulator's wait all see them.
    private static async Task AdvanceAsync(FakeTimeProvider clock, TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(500);
        for (var done = TimeSpan.Zero; done < by; done += step)
        {
            clock.Advance(step);
            await Task.Yield();
        }
    }
}
