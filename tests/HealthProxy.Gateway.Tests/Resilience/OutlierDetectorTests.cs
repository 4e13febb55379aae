using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class OutlierDetectorTests : IDisposable
{
    private readonly TimerCountingTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler());
    private readonly InstanceHealthStore _store;
    private readonly OutlierDetector _detector;
    private readonly ClusterState _cluster;

    public OutlierDetectorTests()
        : this(new OutlierDetectionOptions
        {
            ConsecutiveFailures = 3,
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(10),
            BreakDuration = TimeSpan.FromSeconds(30),
            MaxBreakDuration = TimeSpan.FromSeconds(75),
            MaxEjectionPercent = 50,
        })
    {
    }

    private OutlierDetectorTests(OutlierDetectionOptions options)
    {
        var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(new RoutingTable(), _time, metrics, NullLogger<InstanceHealthStore>.Instance);
        _detector = new OutlierDetector(Options.Create(options), Options.Create(new RetryOptions()), _store, _time, metrics, NullLogger<OutlierDetector>.Instance);
        _cluster = new ClusterState("svc", new ClusterModel(new ClusterConfig { ClusterId = "svc" }, _invoker));
        AddDestinations("a", "b", "c");
        _store.OnClusterAdded(_cluster);
        _detector.OnClusterAdded(_cluster);
    }

    [Fact]
    public async Task Failures_ReachTheConsecutiveThreshold_ReportBreakerUnhealthyToTheStore()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);

        await RecordAsync("a", AttemptOutcome.Failure, 1);

        var health = _store.Get("svc", "a")!;
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(HealthSource.Breaker, health.Source);
        Assert.True(Health("a").IsEjected);
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
    public async Task Failures_InARowAfterThousandsOfSuccessesInTheWindow_EjectAtTheThreshold()
    {
        // A busy destination: against the whole window three failures are a ratio of 3/20,000; the run still ejects.
        await RecordAsync("a", AttemptOutcome.Success, 20_000);
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task Failures_InARowSlowerThanTheSamplingWindow_EjectAtTheThreshold()
    {
        for (var i = 0; i < 2; i++)
        {
            await RecordAsync("a", AttemptOutcome.Failure, 1);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Null(_store.Get("svc", "a")!.State);
        await RecordAsync("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task ClientCausedOutcomes_BetweenFailures_NeitherCountNorBreakTheRun()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        await RecordAsync("a", AttemptOutcome.ClientCaused, 50);
        Assert.Null(_store.Get("svc", "a")!.State);

        await RecordAsync("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task EveryOtherRequestFails_SteadyTraffic_EjectedByTheFailureRatioWithinTheWindow()
    {
        // Never two failures in a row, so the consecutive detector never trips; half of them fail.
        var ejectedAfter = -1;
        for (var i = 0; i < 100 && ejectedAfter < 0; i++)
        {
            await RecordAsync("a", i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            _time.Advance(TimeSpan.FromMilliseconds(50));
            if (_store.Get("svc", "a")!.State == HealthState.Unhealthy)
            {
                ejectedAfter = i + 1;
            }
        }

        Assert.InRange(ejectedAfter, 10, 12);
        Assert.Equal(HealthSource.Breaker, _store.Get("svc", "a")!.Source);
    }

    [Fact]
    public async Task OneInFourFails_BelowTheFailureRatio_NotEjected()
    {
        for (var i = 0; i < 400; i++)
        {
            await RecordAsync("a", i % 4 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task FailureRatioOff_EveryOtherRequestFails_NotEjected()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions { ConsecutiveFailures = 3, FailureRatio = 0, MaxEjectionPercent = 50 });
        for (var i = 0; i < 400; i++)
        {
            await tests.RecordAsync("a", i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            tests._time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Null(tests._store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task ConsecutiveOff_FailuresInARow_EjectedByTheRatioOnceTheWindowHoldsEnough()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions { ConsecutiveFailures = 0, FailureRatio = 0.5, MinimumThroughput = 10, MaxEjectionPercent = 50 });

        await tests.RecordAsync("a", AttemptOutcome.Failure, 9);
        Assert.Null(tests._store.Get("svc", "a")!.State);
        await tests.RecordAsync("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, tests._store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task EjectionElapses_OpinionWithdrawn_TrialSuccessReturnsIt()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);
        Assert.False(Health("a").IsEjected);

        await RecordAsync("a", AttemptOutcome.Success, 1);
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);

        // Back in service with a fresh count and the first-ejection length again.
        await RecordAsync("a", AttemptOutcome.Failure, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
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

        // The third would last 90 s; the cap is 75.
        await RecordAsync("a", AttemptOutcome.Failure, 1);
        _time.Advance(TimeSpan.FromSeconds(74));
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task SecondDestinationTrips_MaxEjectionPercentReached_StaysInServiceAndCountsAgain()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        await RecordAsync("b", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.Null(_store.Get("svc", "b")!.State);
        Assert.False(Health("b").IsEjected);

        // Once a's ejection ends, b's next run ejects it.
        _time.Advance(TimeSpan.FromSeconds(30));
        await RecordAsync("a", AttemptOutcome.Success, 1);
        await RecordAsync("b", AttemptOutcome.Failure, 3);
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "b")!.State);
    }

    [Fact]
    public async Task ProbeSawItDownThenBack_EjectionEndsBeforeTheBreak()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(HealthState.Healthy, _store.Get("svc", "a")!.State);
        Assert.False(Health("a").IsEjected);

        // The timer no longer runs: a's next failures start a fresh run.
        _time.Advance(TimeSpan.FromSeconds(30));
        await RecordAsync("a", AttemptOutcome.Failure, 2);
        Assert.Equal(HealthState.Healthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task ProbeNeverSawItDown_EjectionHoldsForTheBreak()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);

        // A shallow health check that keeps passing beside failing requests is no evidence of a recovery.
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.True(Health("a").IsEjected);
    }

    [Fact]
    public async Task DestinationIdsChurnedThroughConfig_ObjectsHeldMatchWhatExistsAndRemovedTimersAreDisposed()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions { ConsecutiveFailures = 2, MaxEjectionPercent = 100 });
        tests.RemoveDestinations("a", "b", "c");
        var generation = 0;
        for (var round = 0; round < 100; round++)
        {
            var ids = Enumerable.Range(0, 100).Select(i => $"d{generation++}").ToArray();
            tests.AddDestinations(ids);
            tests.Changed();

            // Some of each generation are ejected when they go, with their timers running.
            foreach (var id in ids.Take(10))
            {
                await tests.RecordAsync(id, AttemptOutcome.Failure, 2);
            }

            Assert.Equal(100, tests._detector.PassiveHealthCount);
            tests.RemoveDestinations(ids);
            tests.Changed();
            Assert.Equal(0, tests._detector.PassiveHealthCount);
        }

        Assert.Equal(10_000, generation);
        Assert.Equal(1_000, tests._time.TimersCreated);
        Assert.Equal(0, tests._time.TimersAlive);
        Assert.True(tests._detector.TryGetCluster("svc", out var cluster));
        Assert.Equal(0, cluster.EjectedCount);

        // A disposed timer fires nothing: no late withdrawal for an instance that is gone.
        tests._time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, tests._detector.PassiveHealthCount);
    }

    [Fact]
    public async Task ClusterRemoved_EjectedDestination_ObjectsReleasedAndTimerDisposed()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        Assert.Equal(1, _time.TimersAlive);

        _store.OnClusterRemoved(_cluster);
        _detector.OnClusterRemoved(_cluster);

        Assert.Equal(0, _detector.PassiveHealthCount);
        Assert.Equal(0, _time.TimersAlive);
        Assert.False(_detector.TryGetCluster("svc", out _));
    }

    [Fact]
    public async Task ClusterSettingsChange_EjectionKept_CountingRestartsUnderTheNewSettings()
    {
        await RecordAsync("a", AttemptOutcome.Failure, 3);
        await RecordAsync("b", AttemptOutcome.Failure, 2);
        var changed = new ClusterState("svc", new ClusterModel(
            new ClusterConfig { ClusterId = "svc", Metadata = new Dictionary<string, string> { ["HealthProxy.OutlierDetection.ConsecutiveFailures"] = "4", ["HealthProxy.OutlierDetection.MaxEjectionPercent"] = "100" } },
            _invoker));
        foreach (var id in new[] { "a", "b", "c" })
        {
            changed.Destinations.TryAdd(id, new DestinationState(id));
        }

        _detector.OnClusterChanged(changed);
        Assert.True(Health("a").IsEjected);
        await RecordAsync("b", AttemptOutcome.Failure, 3);
        Assert.Null(_store.Get("svc", "b")!.State);
        await RecordAsync("b", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "b")!.State);
    }

    public void Dispose()
    {
        _detector.Dispose();
        _invoker.Dispose();
        _services.Dispose();
    }

    private PassiveHealth Health(string destinationId)
    {
        Assert.True(_detector.TryGetCluster("svc", out var cluster));
        Assert.True(cluster.TryGet(destinationId, out var health));
        return health;
    }

    private async Task RecordAsync(string destinationId, AttemptOutcome outcome, int count)
    {
        var health = Health(destinationId);
        for (var i = 0; i < count; i++)
        {
            await health.RecordAsync(outcome);
        }
    }

    private void AddDestinations(params string[] ids)
    {
        foreach (var id in ids)
        {
            _cluster.Destinations.TryAdd(id, new DestinationState(id));
        }
    }

    private void RemoveDestinations(params string[] ids)
    {
        foreach (var id in ids)
        {
            _cluster.Destinations.TryRemove(id, out _);
        }
    }

    private void Changed()
    {
        _store.OnClusterChanged(_cluster);
        _detector.OnClusterChanged(_cluster);
    }
}
