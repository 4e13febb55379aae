using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class OutlierDetectorTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly InstanceHealthStore _store;
    private readonly OutlierDetector _detector;
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler());

    public OutlierDetectorTests()
    {
        var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(new RoutingTable(), _time, metrics, NullLogger<InstanceHealthStore>.Instance);
        var options = new OutlierDetectionOptions
        {
            ConsecutiveFailures = 3,
            BreakDuration = TimeSpan.FromSeconds(30),
            MaxBreakDuration = TimeSpan.FromSeconds(75),
            MaxEjectionPercent = 50,
        };
        _detector = new OutlierDetector(Options.Create(options), Options.Create(new RetryOptions()), _store, _time, metrics, NullLogger<OutlierDetector>.Instance);
        var cluster = NewCluster();
        _store.OnClusterAdded(cluster);
        _detector.OnClusterAdded(cluster);
    }

    [Fact]
    public async Task Failures_ReachTheThreshold_ReportBreakerUnhealthyToTheStore()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);
        Assert.True(_detector.IsClosed(new DestinationKey("svc", "a")));

        await RecordAsync("a", AttemptOutcome.Failure, 1);

        var health = _store.Get("svc", "a")!;
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(HealthSource.Breaker, health.Source);
        Assert.False(_detector.IsClosed(new DestinationKey("svc", "a")));
    }

    [Fact]
    public async Task ConcurrentFirstUses_ThenTrip_TheBreakerInUseReportsOpen()
    {
        // Concurrent first requests may make the registry build a destination's pipeline more than once.
        var key = new DestinationKey("svc", "a");
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => _detector.Breaker(key))));

        await RecordAsync("a", AttemptOutcome.Failure, 3);

        Assert.False(_detector.IsClosed(key));
        Assert.False(await RecordAsync("a", AttemptOutcome.Success, 1));
    }

    [Fact]
    public async Task Failures_ASuccessBetween_DoNotEject()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        await RecordAsync("a", AttemptOutcome.Success, 1);
        await RecordAsync("a", AttemptOutcome.Failure, 2);

        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task Failures_InARowAfterManySuccessesInTheWindow_EjectAtTheThreshold()
    {
        await RecordAsync("a", AttemptOutcome.Success, 50);
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task Failures_InARowAfterThousandsOfSuccessesInTheWindow_EjectAtTheThreshold()
    {
        // A busy destination: 2,000 requests per second over the 10 s window. Against the whole window, one failure
        // is a ratio of 1/20,000, below any ratio a breaker could trip at; a run of failures must still eject.
        await RecordAsync("a", AttemptOutcome.Success, 20_000);
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task Failures_InARowAfterThousandsOfIsolatedFailures_EjectAtTheThreshold()
    {
        // A busy destination with a steady 50% of stray failures, none of them in a row.
        for (var i = 0; i < 5_000; i++)
        {
            await RecordAsync("a", AttemptOutcome.Failure, 1);
            await RecordAsync("a", AttemptOutcome.Success, 1);
        }

        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);
        await RecordAsync("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task Failures_InARowSlowerThanTheSamplingWindow_EjectAtTheThreshold()
    {
        // A quiet destination: one failing request a minute, each run's earlier failures long out of Polly's window.
        for (var i = 0; i < 2; i++)
        {
            await RecordAsync("a", AttemptOutcome.Failure, 1);
            Assert.Null(_store.Get("svc", "a")!.State);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        await RecordAsync("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task ClusterRemovedThenAddedAgain_BreakerBuiltMeanwhile_TripsUnderTheNewPolicy()
    {
        var cluster = NewCluster();
        _detector.OnClusterRemoved(cluster);
        await RecordAsync("a", AttemptOutcome.Failure, 3);   // no policy: no breaker, nothing to eject
        Assert.Null(_store.Get("svc", "a")!.State);

        _detector.OnClusterAdded(cluster);
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task BreakElapses_OpinionWithdrawn_TrialSuccessClosesTheBreaker()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);

        Assert.False(_detector.IsClosed(new DestinationKey("svc", "a")), "half-open: the trial goes through Polly");
        Assert.True(await RecordAsync("a", AttemptOutcome.Success, 1));
        Assert.True(_detector.IsClosed(new DestinationKey("svc", "a")));
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task TrialFails_EjectedAgainForLonger_UpToTheCap()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        _time.Advance(TimeSpan.FromSeconds(30));

        await RecordAsync("a", AttemptOutcome.Failure, 1);
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);

        // The second ejection lasts 60 s, not 30.
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);

        Assert.Equal(TimeSpan.FromSeconds(75), OutlierDetector.BreakFor(new OutlierDetectionOptions { BreakDuration = TimeSpan.FromSeconds(30), MaxBreakDuration = TimeSpan.FromSeconds(75) }, 2));
    }

    [Fact]
    public async Task SecondDestinationTrips_MaxEjectionPercentReached_StaysInServiceAndCountsAgain()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        await RecordAsync("b", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.Null(_store.Get("svc", "b")!.State);

        // b's trip was overruled and its breaker closed: requests still execute.
        await Eventually(async () => await RecordAsync("b", AttemptOutcome.Success, 1));
        Assert.True(_detector.IsClosed(new DestinationKey("svc", "b")));
    }

    [Fact]
    public async Task ProbeSawItDownThenBack_EjectionEndsBeforeTheBreak()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        // No time passed: the breaker is closed and its opinion withdrawn, so requests run again at once.
        await Eventually(async () => _store.Get("svc", "a")!.State == HealthState.Healthy && await RecordAsync("a", AttemptOutcome.Success, 1));
        Assert.Equal(HealthState.Healthy, _store.Get("svc", "a")!.State);
        Assert.True(await RecordAsync("a", AttemptOutcome.Success, 1));
    }

    [Fact]
    public async Task ProbeNeverSawItDown_EjectionHoldsForTheBreak()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        // A shallow health check that keeps passing beside failing requests is no evidence of a recovery.
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        await Task.Yield();

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.False(await RecordAsync("a", AttemptOutcome.Success, 1));
    }

    private ClusterState NewCluster()
    {
        var cluster = new ClusterState("svc", new ClusterModel(new ClusterConfig { ClusterId = "svc" }, _invoker));
        foreach (var id in new[] { "a", "b", "c" })
        {
            cluster.Destinations.TryAdd(id, new DestinationState(id));
        }

        return cluster;
    }

    public void Dispose()
    {
        _detector.Dispose();
        _invoker.Dispose();
        _services.Dispose();
    }

    /// <summary>
    /// Polls until <paramref name="condition"/> holds or 10 s pass. The breaker's manual control closes on Polly's
    /// own scheduler, so "at once" means as soon as that runs, which on a loaded machine can take a while.
    /// </summary>
    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Runs <paramref name="count"/> attempts with <paramref name="outcome"/> as the request path does (a closed
    /// breaker is told afterwards, any other decides first); true when the breaker let them all run.
    /// </summary>
    private async Task<bool> RecordAsync(string destinationId, AttemptOutcome outcome, int count)
    {
        var key = new DestinationKey("svc", destinationId);
        var breaker = _detector.Breaker(key);
        var ran = true;
        for (var i = 0; i < count; i++)
        {
            var state = _detector.State(key);
            if (OutlierDetector.IsClosed(state))
            {
                await _detector.ReportAsync(key, state, outcome, CancellationToken.None);
                continue;
            }

            var context = ResilienceContextPool.Shared.Get();
            var result = await breaker.ExecuteOutcomeAsync(static (_, o) => ValueTask.FromResult(Outcome.FromResult(o)), context, outcome);
            ResilienceContextPool.Shared.Return(context);
            ran &= result.Exception is null;
        }

        return ran;
    }
}
