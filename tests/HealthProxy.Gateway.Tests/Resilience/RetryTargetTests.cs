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

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class RetryTargetTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly RoutingTable _table = new();
    private readonly InstanceHealthStore _store;
    private readonly OutlierDetector _detector;

    public RetryTargetTests()
    {
        var time = new FakeTimeProvider();
        var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(_table, time, metrics, NullLogger<InstanceHealthStore>.Instance);
        _detector = new OutlierDetector(
            Options.Create(new OutlierDetectionOptions { ConsecutiveFailures = 2, FailureRatio = 0, MaxEjectionPercent = 100 }),
            Options.Create(new RetryOptions()), _store, time, metrics, NullLogger<OutlierDetector>.Instance);
        var cluster = TestClusters.Create("svc", ["a", "b"]);
        _store.OnClusterAdded(cluster);
        _detector.OnClusterAdded(cluster);
    }

    [Fact]
    public void Pick_AnotherEligibleDestination_NeverTheOneTried()
    {
        var tried = Destination("a");

        Assert.Equal("b", RetryTarget.Pick(_table, Cluster(), RequestKind.Read, tried)?.DestinationId);
    }

    [Fact]
    public void Pick_OnlyOtherDestinationEjected_None_EvenWhenReadsFallBackToAll()
    {
        Cluster().TryGet("b", out var b);
        b.Record(AttemptOutcome.Failure);
        b.Record(AttemptOutcome.Failure);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);

        // Reads fall back to all (a and b), but b is ejected and a is the one tried: there is nowhere to retry, so a
        // 503 from a must reach the client as it is rather than be withheld.
        Assert.True(b.IsEjected);
        Assert.Null(RetryTarget.Pick(_table, Cluster(), RequestKind.Read, Destination("a")));
    }

    private ClusterResilience Cluster() => _detector.TryGetCluster("svc", out var cluster) ? cluster : throw new InvalidOperationException("no cluster");

    private Yarp.ReverseProxy.Model.DestinationState Destination(string id) =>
        _table.TryGet("svc", out var routing) ? routing.All.Single(d => d.DestinationId == id) : throw new InvalidOperationException("no routing");

    public void Dispose()
    {
        _detector.Dispose();
        _services.Dispose();
    }
}
