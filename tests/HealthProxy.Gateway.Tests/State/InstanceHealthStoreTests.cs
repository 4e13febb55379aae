using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.State;

public sealed class InstanceHealthStoreTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly RoutingTable _table = new();
    private readonly InstanceHealthStore _store;
    private readonly List<ClusterHealthChange> _changes = [];

    public InstanceHealthStoreTests()
    {
        _store = new InstanceHealthStore(_table, _time, new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<InstanceHealthStore>.Instance);
        _store.Changed += _changes.Add;
    }

    [Fact]
    public void Report_SourcesDisagree_WorstWinsAndOneTransitionIsPublished()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a", "b"]));
        _changes.Clear();

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Degraded);
        _store.Report("svc", "a", HealthSource.Registry, HealthState.Draining);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(HealthState.Draining, _store.Get("svc", "a")!.State);
        Assert.Equal(HealthSource.Registry, _store.Get("svc", "a")!.Source);
        Assert.Equal(2, _changes.Count);
        Assert.Equal(new InstanceTransition("a", null, HealthState.Degraded, HealthSource.Probe, Left: false), Assert.Single(_changes[0].Transitions));
        Assert.Equal(new InstanceTransition("a", HealthState.Degraded, HealthState.Draining, HealthSource.Registry, Left: false), Assert.Single(_changes[1].Transitions));
        Assert.Same(_changes[1].Current, _table.TryGet("svc", out var routing) ? routing : null);
        Assert.Same(_changes[0].Current, _changes[1].Previous);
    }

    [Fact]
    public void RoutableSince_SetWhenAnInstanceReturnsOrJoinsAServingCluster_NotForTheFirstMembers()
    {
        var cluster = TestClusters.Create("svc", ["a", "b"]);
        _store.OnClusterAdded(cluster);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        Assert.Null(_store.Get("svc", "a")!.RoutableSince);

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);
        _time.Advance(TimeSpan.FromSeconds(5));
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Degraded);
        Assert.Equal(_time.GetUtcNow(), _store.Get("svc", "a")!.RoutableSince);

        _time.Advance(TimeSpan.FromSeconds(5));
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(5), _store.Get("svc", "a")!.RoutableSince);

        _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ["a", "b", "c"]));
        Assert.Equal(_time.GetUtcNow(), _store.Get("svc", "c")!.RoutableSince);
        Assert.Null(_store.Get("svc", "b")!.RoutableSince);
    }

    [Fact]
    public void Report_BeforeTheDestinationExists_WaitsAndAppliesWhenItJoins()
    {
        var cluster = TestClusters.Create("svc", ["a"]);
        _store.OnClusterAdded(cluster);

        _store.Report("svc", "b", HealthSource.Registry, HealthState.Degraded);
        Assert.Equal(1, _store.PendingCount);
        _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ["a", "b"]));

        Assert.Equal(HealthState.Degraded, _store.Get("svc", "b")!.State);
        Assert.Equal(0, _store.PendingCount);
        var routing = _changes[^1].Current!;
        Assert.Equal(["a", "b"], routing.Reads.Select(d => d.DestinationId));
        Assert.Equal(["a"], routing.Writes.Select(d => d.DestinationId));
    }

    [Fact]
    public void Report_WithdrawnBeforeTheDestinationJoins_NothingWaits()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a"]));

        _store.Report("svc", "b", HealthSource.Registry, HealthState.Degraded);
        _store.Report("svc", "b", HealthSource.Registry, null);

        Assert.Equal(0, _store.PendingCount);
    }

    [Fact]
    public void OnClusterRemoved_ReleasesTheClusterItsWaitingReportsAndRoutingAndSaysSo()
    {
        var cluster = TestClusters.Create("svc", ["a"]);
        _store.OnClusterAdded(cluster);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);
        _store.Report("svc", "later", HealthSource.Registry, HealthState.Healthy);
        _store.Report("gone-already", "x", HealthSource.Registry, HealthState.Healthy);

        _store.OnClusterRemoved(cluster);
        _store.OnClusterRemoved(TestClusters.Create("gone-already", []));

        Assert.False(_table.TryGet("svc", out _));
        Assert.Null(_store.Get("svc", "a"));
        Assert.Equal(0, _store.PendingCount);
        var removed = _changes[^1];
        Assert.Null(removed.Current);
        Assert.Equal(new InstanceTransition("a", HealthState.Unhealthy, null, null, Left: true), Assert.Single(removed.Transitions));
    }

    [Fact]
    public void OnClusterChanged_DestinationLeaves_ItsStateGoesWithIt()
    {
        var cluster = TestClusters.Create("svc", ["a", "b"]);
        _store.OnClusterAdded(cluster);
        _store.Report("svc", "b", HealthSource.Registry, HealthState.Draining);

        _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ["a"]));
        _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ["a", "b"]));

        Assert.Null(_store.Get("svc", "b")!.State);
        Assert.Contains(new InstanceTransition("b", HealthState.Draining, null, null, Left: true), _changes.SelectMany(c => c.Transitions));
    }

    [Fact]
    public void OnClusterChanged_ThousandsOfIdsChurnThrough_TheStoreHoldsOnlyWhatExists()
    {
        var cluster = TestClusters.Create("svc", []);
        _store.OnClusterAdded(cluster);
        for (var round = 0; round < 100; round++)
        {
            var ids = Enumerable.Range(round * 100, 100).Select(i => $"d{i}").ToList();
            foreach (var id in ids)
            {
                _store.Report("svc", id, HealthSource.Registry, HealthState.Healthy);
            }

            _store.OnClusterChanged(TestClusters.WithDestinations(cluster, ids));
        }

        Assert.True(_table.TryGet("svc", out var routing));
        Assert.Equal(100, routing.Instances.Count);
        Assert.Equal(0, _store.PendingCount);
    }

    [Fact]
    public void Changed_HandlerReportsBack_DeliveredAfterTheCurrentChangeWithoutDeadlock()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a", "b"]));
        var order = new List<string>();
        _store.Changed += change =>
        {
            foreach (var transition in change.Transitions)
            {
                order.Add($"{transition.DestinationId}:{transition.To}");
                if (transition is { DestinationId: "a", To: HealthState.Unhealthy })
                {
                    // A reader that reacts by reporting (as the outlier detector does) is heard after this change.
                    _store.Report("svc", "b", HealthSource.Breaker, HealthState.Unhealthy);
                    order.Add("reported");
                }
            }
        };

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);

        Assert.Equal(["a:Unhealthy", "reported", "b:Unhealthy"], order);
    }

    [Fact]
    public void Changed_HandlerThrows_OtherHandlersAndLaterChangesStillDelivered()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a"]));
        _store.Changed += _ => throw new InvalidOperationException("a faulty reader");
        var heard = 0;
        _store.Changed += _ => heard++;

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Degraded);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(2, heard);
    }

    [Fact]
    public async Task Changed_ConcurrentWriters_EveryChangeDeliveredOnceAndInOrderPerCluster()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", Enumerable.Range(0, 8).Select(i => $"d{i}")));
        _changes.Clear();
        var delivering = 0;
        var overlapped = false;
        _store.Changed += _ =>
        {
            overlapped |= Interlocked.Increment(ref delivering) > 1;
            Interlocked.Decrement(ref delivering);
        };

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            for (var n = 0; n < 200; n++)
            {
                _store.Report("svc", $"d{i}", HealthSource.Probe, n % 2 == 0 ? HealthState.Degraded : HealthState.Healthy);
            }
        })));

        Assert.False(overlapped);
        Assert.Equal(8 * 200, _changes.Count);
        for (var i = 1; i < _changes.Count; i++)
        {
            Assert.Same(_changes[i - 1].Current, _changes[i].Previous);
        }
    }

    [Fact]
    public void ProbeRecovered_ProbeSeesAnUnhealthyInstanceBack_RaisedOnceOutsideTheLock()
    {
        _store.OnClusterAdded(TestClusters.Create("svc", ["a"]));
        var recovered = new List<string>();
        _store.ProbeRecovered += (cluster, destination) =>
        {
            recovered.Add($"{cluster}/{destination}");
            _store.Report(cluster, destination, HealthSource.Breaker, null);
        };

        _store.Report("svc", "a", HealthSource.Probe, HealthState.Unhealthy);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);
        _store.Report("svc", "a", HealthSource.Probe, HealthState.Healthy);

        Assert.Equal(["svc/a"], recovered);
    }

    [Fact]
    public void FailbackDelay_Passes_TheSnapshotIsRebuiltWithoutAnyReport()
    {
        var metadata = new Dictionary<string, string> { ["HealthProxy.FailbackDelay"] = "00:00:20" };
        _store.OnClusterAdded(TestClusters.CreateTiered("svc", [("local", 0), ("remote", 1)], metadata));
        _store.Report("svc", "local", HealthSource.Registry, HealthState.Unhealthy);
        Assert.True(_table.TryGet("svc", out var failedOver));
        Assert.Equal(1, failedOver.ServingTier(RequestKind.Write));

        _time.Advance(TimeSpan.FromSeconds(1));
        _store.Report("svc", "local", HealthSource.Registry, HealthState.Healthy);
        _changes.Clear();
        _time.Advance(TimeSpan.FromSeconds(19.5));
        Assert.Empty(_changes);
        _table.TryGet("svc", out var waiting);
        Assert.Equal(1, waiting.ServingTier(RequestKind.Write));

        _time.Advance(TimeSpan.FromSeconds(0.5));
        var change = Assert.Single(_changes);
        Assert.Empty(change.Transitions);
        Assert.Equal(0, change.Current!.ServingTier(RequestKind.Write));
        Assert.Equal(0, change.Current.ServingTier(RequestKind.Read));
        Assert.Same(change.Current, _table.TryGet("svc", out var routing) ? routing : null);
        Assert.Null(routing.FailbackDue);
    }

    [Fact]
    public void FailbackTimer_ClusterRemovedBeforeItFires_NothingIsRebuilt()
    {
        var cluster = TestClusters.CreateTiered("svc", [("local", 0), ("remote", 1)]);
        _store.OnClusterAdded(cluster);
        _store.Report("svc", "local", HealthSource.Registry, HealthState.Unhealthy);
        _store.Report("svc", "local", HealthSource.Registry, HealthState.Healthy);
        _store.OnClusterRemoved(cluster);
        _changes.Clear();

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Empty(_changes);
        Assert.False(_table.TryGet("svc", out _));
    }

    public void Dispose() => _services.Dispose();
}
