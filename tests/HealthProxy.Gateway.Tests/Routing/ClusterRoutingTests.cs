using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Routing;

public class ClusterRoutingTests
{
    private static readonly DestinationState[] Destinations = [new("a"), new("b"), new("c"), new("d"), new("e")];

    [Fact]
    public void Build_EveryState_LandsInTheRightSets()
    {
        var routing = Build(("a", HealthState.Healthy), ("b", HealthState.Degraded), ("c", HealthState.Starting), ("d", HealthState.Draining), ("e", HealthState.Unhealthy));

        Assert.Equal(["a", "b"], routing.Reads.Select(d => d.DestinationId));
        Assert.Equal(["a"], routing.Writes.Select(d => d.DestinationId));
        Assert.Equal(5, routing.All.Count);
        Assert.Null(routing.ReadFallback);
        Assert.Null(routing.WriteFallback);
    }

    [Fact]
    public void Build_UnjudgedInstance_IsRoutedAsHealthy()
    {
        var routing = ClusterRouting.Build("c", Destinations, new Dictionary<string, InstanceHealth>(), previous: null);
        Assert.Equal(5, routing.Writes.Count);
    }

    [Fact]
    public void Build_NoWritableInstance_OpensOneFallbackEpisodeThatSurvivesRebuilds()
    {
        var first = Build(("a", HealthState.Degraded), ("b", HealthState.Draining), ("c", HealthState.Unhealthy), ("d", HealthState.Degraded), ("e", HealthState.Starting));
        Assert.NotNull(first.WriteFallback);
        Assert.Null(first.ReadFallback);
        Assert.True(first.WriteFallback!.TryAnnounce());

        var second = Build(first, ("a", HealthState.Unhealthy), ("b", HealthState.Draining), ("c", HealthState.Unhealthy), ("d", HealthState.Degraded), ("e", HealthState.Starting));
        Assert.Same(first.WriteFallback, second.WriteFallback);
        Assert.False(second.WriteFallback!.TryAnnounce());

        var recovered = Build(second, ("a", HealthState.Healthy));
        Assert.Null(recovered.WriteFallback);

        var again = Build(recovered, ("a", HealthState.Unhealthy), ("b", HealthState.Unhealthy), ("c", HealthState.Unhealthy), ("d", HealthState.Unhealthy), ("e", HealthState.Unhealthy));
        Assert.NotSame(first.WriteFallback, again.WriteFallback);
        Assert.True(again.WriteFallback!.TryAnnounce());
        Assert.True(again.ReadFallback!.TryAnnounce());
    }

    private static ClusterRouting Build(params (string Id, HealthState State)[] states) => Build(null, states);

    private static ClusterRouting Build(ClusterRouting? previous, params (string Id, HealthState State)[] states)
    {
        var health = states.ToDictionary(s => s.Id, s => new InstanceHealth("c", s.Id, s.State, HealthSource.Probe, DateTimeOffset.UnixEpoch));
        return ClusterRouting.Build("c", Destinations, health, previous);
    }
}
