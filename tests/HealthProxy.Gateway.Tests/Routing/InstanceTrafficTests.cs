using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Routing;

public sealed class InstanceTrafficTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly InstanceTraffic _traffic;

    public InstanceTrafficTests() => _traffic = new InstanceTraffic(_time);

    [Fact]
    public void Record_ReadsWritesAndFallbacks_CountedByKindOverTheMinute()
    {
        var cluster = TestClusters.Create("catalog", ["a", "b"]);
        _traffic.OnClusterAdded(cluster);
        var a = cluster.Destinations["a"];
        var b = cluster.Destinations["b"];

        _traffic.Record(a, RequestKind.Read, fallback: false);
        _traffic.Record(a, RequestKind.Read, fallback: true);
        _time.Advance(TimeSpan.FromSeconds(30));
        _traffic.Record(a, RequestKind.Write, fallback: false);
        _traffic.Record(b, RequestKind.Write, fallback: true);

        Assert.Equal(new TrafficWindow(2, 1, 1), _traffic.LastMinute(a));
        Assert.Equal(new TrafficWindow(0, 1, 1), _traffic.LastMinute(b));
    }

    [Fact]
    public void LastMinute_RequestsOlderThanSixtySeconds_NoLongerCounted()
    {
        var cluster = TestClusters.Create("catalog", ["a"]);
        _traffic.OnClusterAdded(cluster);
        var a = cluster.Destinations["a"];
        _traffic.Record(a, RequestKind.Read, fallback: false);
        _traffic.Record(a, RequestKind.Read, fallback: false);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(2, _traffic.LastMinute(a).Reads);

        // Sixty seconds on, the same bucket counts a new second: the old requests are gone, not added to.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, _traffic.LastMinute(a).Reads);
        _traffic.Record(a, RequestKind.Read, fallback: false);
        Assert.Equal(1, _traffic.LastMinute(a).Reads);
    }

    [Fact]
    public void Record_ManyThreadsAtOnce_NoRequestLost()
    {
        var cluster = TestClusters.Create("catalog", ["a"]);
        _traffic.OnClusterAdded(cluster);
        var a = cluster.Destinations["a"];

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                _traffic.Record(a, i % 2 == 0 ? RequestKind.Read : RequestKind.Write, fallback: false);
            }
        });

        Assert.Equal(new TrafficWindow(40_000, 40_000, 0), _traffic.LastMinute(a));
    }

    [Fact]
    public void Record_TrackedDestination_AllocatesNothing()
    {
        var cluster = TestClusters.Create("catalog", ["a"]);
        _traffic.OnClusterAdded(cluster);
        var a = cluster.Destinations["a"];
        _traffic.Record(a, RequestKind.Read, fallback: false);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _traffic.Record(a, RequestKind.Write, fallback: true);
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ClusterAddedThenRemoved_CountersMadeUpFrontAndReleasedWithIt()
    {
        var cluster = TestClusters.Create("catalog", ["a", "b"]);

        _traffic.OnClusterAdded(cluster);
        Assert.True(_traffic.IsTracked(cluster.Destinations["a"]));
        Assert.True(_traffic.IsTracked(cluster.Destinations["b"]));

        var b = cluster.Destinations["b"];
        _traffic.Record(b, RequestKind.Read, fallback: false);
        _traffic.OnClusterRemoved(cluster);

        Assert.False(_traffic.IsTracked(cluster.Destinations["a"]));
        Assert.False(_traffic.IsTracked(b));
        Assert.Equal(default, _traffic.LastMinute(b));
    }
}
