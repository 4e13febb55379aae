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
    public void Failures_ReachTheConsecutiveThreshold_ReportBreakerUnhealthyToTheStore()
    {
        Record("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);

        Record("a", AttemptOutcome.Failure, 1);

        var health = _store.Get("svc", "a")!;
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(HealthSource.Breaker, health.Source);
        Assert.True(Health("a").IsEjected);
    }

    [Fact]
    public void Failures_ASuccessBetween_DoNotEject()
    {
        Record("a", AttemptOutcome.Failure, 2);
        Record("a", AttemptOutcome.Success, 1);
        Record("a", AttemptOutcome.Failure, 2);

        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public void Failures_InARowAfterThousandsOfSuccessesInTheWindow_EjectAtTheThreshold()
    {
        // A busy destination: against the whole window three failures are a ratio of 3/20,000; the run still ejects.
        Record("a", AttemptOutcome.Success, 20_000);
        Record("a", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public void Failures_InARowSlowerThanTheSamplingWindow_EjectAtTheThreshold()
    {
        for (var i = 0; i < 2; i++)
        {
            Record("a", AttemptOutcome.Failure, 1);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Null(_store.Get("svc", "a")!.State);
        Record("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public void ClientCausedOutcomes_BetweenFailures_NeitherCountNorBreakTheRun()
    {
        Record("a", AttemptOutcome.Failure, 2);
        Record("a", AttemptOutcome.ClientCaused, 50);
        Assert.Null(_store.Get("svc", "a")!.State);

        Record("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public void EveryOtherRequestFails_SteadyTraffic_EjectedByTheFailureRatioWithinTheWindow()
    {
        // Never two failures in a row, so the consecutive detector never trips; half of them fail.
        var ejectedAfter = -1;
        for (var i = 0; i < 100 && ejectedAfter < 0; i++)
        {
            Record("a", i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
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
    public void DefaultSettings_HealthyThenEveryOtherRequestFails_EjectedWithinTheSamplingWindow()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions());
        var step = TimeSpan.FromMilliseconds(50);
        for (var i = 0; i < 200; i++)
        {
            tests.Record("a", AttemptOutcome.Success, 1);
            tests._time.Advance(step);
        }

        var failing = TimeSpan.Zero;
        for (var i = 0; i < 400 && tests._store.Get("svc", "a")!.State is null; i++)
        {
            tests.Record("a", i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            tests._time.Advance(step);
            failing += step;
        }

        Assert.Equal(HealthState.Unhealthy, tests._store.Get("svc", "a")!.State);
        Assert.InRange(failing, TimeSpan.FromSeconds(1), new OutlierDetectionOptions().SamplingDuration);
    }

    [Fact]
    public void OneInFourFails_BelowTheFailureRatio_NotEjected()
    {
        for (var i = 0; i < 400; i++)
        {
            Record("a", i % 4 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            _time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public void FailureRatioOff_EveryOtherRequestFails_NotEjected()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions { ConsecutiveFailures = 3, FailureRatio = 0, MaxEjectionPercent = 50 });
        for (var i = 0; i < 400; i++)
        {
            tests.Record("a", i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success, 1);
            tests._time.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.Null(tests._store.Get("svc", "a")!.State);
    }

    [Fact]
    public void ConsecutiveOff_FailuresInARow_EjectedByTheRatioOnceTheWindowHoldsEnough()
    {
        using var tests = new OutlierDetectorTests(new OutlierDetectionOptions { ConsecutiveFailures = 0, FailureRatio = 0.5, MinimumThroughput = 10, MaxEjectionPercent = 50 });

        tests.Record("a", AttemptOutcome.Failure, 9);
        Assert.Null(tests._store.Get("svc", "a")!.State);
        tests.Record("a", AttemptOutcome.Failure, 1);

        Assert.Equal(HealthState.Unhealthy, tests._store.Get("svc", "a")!.State);
    }

    [Fact]
    public void EjectionElapses_OpinionWithdrawn_TrialSuccessReturnsIt()
    {
        Record("a", AttemptOutcome.Failure, 3);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);
        Assert.False(Health("a").IsEjected);

        Record("a", AttemptOutcome.Success, 1);
        Record("a", AttemptOutcome.Failure, 2);
        Assert.Null(_store.Get("svc", "a")!.State);

        // Back in service with a fresh count and the first-ejection length again.
        Record("a", AttemptOutcome.Failure, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public void TrialFails_EjectedAgainForLonger_UpToTheCap()
    {
        Record("a", AttemptOutcome.Failure, 3);
        _time.Advance(TimeSpan.FromSeconds(30));

        Record("a", AttemptOutcome.Failure, 1);
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);

        // The second ejection lasts 60 s, not 30.
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(_store.Get("svc", "a")!.State);

        // The third would last 90 s; the cap is 75.
        Record("a", AttemptOutcome.Failure, 1);
        _time.Advance(TimeSpan.FromSeconds(74));
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public void SecondDestinationTrips_MaxEjectionPercentReached_StaysInServiceAndCountsAgain()
    {
        Record("a", AttemptOutcome.Failure, 3);
        Record("b", AttemptOutcome.Failure, 3);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.Null(_store.Get("svc", "b")!.State);
        Assert.False(Health("b").IsEjected);

        // Once a's ejection ends, b's next run ejects it.
        _time.Advance(TimeSpan.FromSeconds(30));
        Record("a", AttemptOutcome.Success, 1);
        Record("b", AttemptOutcome.Failure, 3);
        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "b")!.State);
    }

    [Fact]
    public void ProbeSawItDownThenBack_EjectionEndsBeforeTheBreak()
    {
        Record("a", AttemptOutcome.Failure, 3);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(HealthState.Healthy, _store.Get("svc", "a")!.State);
        Assert.False(Health("a").IsEjected);

        // The timer no longer runs: a's next failures start a fresh run.
        _time.Advance(TimeSpan.FromSeconds(30));
        Record("a", AttemptOutcome.Failure, 2);
        Assert.Equal(HealthState.Healthy, _store.Get("svc", "a")!.State);
    }

    [Fact]
    public void ProbeNeverSawItDown_EjectionHoldsForTheBreak()
    {
        Record("a", AttemptOutcome.Failure, 3);

        // A shallow health check that keeps passing beside failing requests is no evidence of a recovery.
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(HealthState.Unhealthy, _store.Get("svc", "a")!.State);
        Assert.True(Health("a").IsEjected);
    }

    [Fact]
    public void DestinationIdsChurnedThroughConfig_ObjectsHeldMatchWhatExistsAndRemovedTimersAreDisposed()
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
                tests.Record(id, AttemptOutcome.Failure, 2);
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
    public void ClusterRemoved_EjectedDestination_ObjectsReleasedAndTimerDisposed()
    {
        Record("a", AttemptOutcome.Failure, 3);
        Assert.Equal(1, _time.TimersAlive);

        _store.OnClusterRemoved(_cluster);
        _detector.OnClusterRemoved(_cluster);

        Assert.Equal(0, _detector.PassiveHealthCount);
        Assert.Equal(0, _time.TimersAlive);
        Assert.False(_detector.TryGetCluster("svc", out _));
    }

    [Fact]
    public void ClusterSettingsChange_EjectionKept_CountingRestartsUnderTheNewSettings()
    {
        Record("a", AttemptOutcome.Failure, 3);
        Record("b", AttemptOutcome.Failure, 2);
        var changed = new ClusterState("svc", new ClusterModel(
            new ClusterConfig { ClusterId = "svc", Metadata = new Dictionary<string, string> { ["HealthProxy.OutlierDetection.ConsecutiveFailures"] = "4", ["HealthProxy.OutlierDetection.MaxEjectionPercent"] = "100" } },
            _invoker));
        foreach (var id in new[] { "a", "b", "c" })
        {
            changed.Destinations.TryAdd(id, new DestinationState(id));
        }

        _detector.OnClusterChanged(changed);
        Assert.True(Health("a").IsEjected);
        Record("b", AttemptOutcome.Failure, 3);
        Assert.Null(_store.Get("svc", "b")!.State);
        Record("b", AttemptOutcome.Failure, 1);

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

    private void Record(string destinationId, AttemptOutcome outcome, int count)
    {
        var health = Health(destinationId);
        for (var i = 0; i < count; i++)
        {
            health.Record(outcome);
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
