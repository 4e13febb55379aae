using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Diagnostics;

public sealed class DegradedTimeTrackerTests
{
    private static readonly DestinationState[] Destinations = [new("a"), new("b"), new("c")];
    private readonly FakeTimeProvider _time = new();
    private readonly RoutingTable _table = new();

    [Fact]
    public void Totals_DegradedEpisodes_AddUpOnlyWhileDegraded()
    {
        var tracker = new DegradedTimeTracker(_table, _time);
        Set(HealthState.Healthy, HealthState.Healthy, HealthState.Healthy);
        _time.Advance(TimeSpan.FromSeconds(10));

        Set(HealthState.Healthy, HealthState.Healthy, HealthState.Unhealthy);    // 2 of 3: degraded
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(5, Seconds(tracker));                                        // an open episode counts up to now

        Set(HealthState.Healthy, HealthState.Unhealthy, HealthState.Unhealthy);  // 1 of 3: unhealthy, not degraded
        _time.Advance(TimeSpan.FromSeconds(20));
        Set(HealthState.Healthy, HealthState.Degraded, HealthState.Healthy);      // degraded again
        _time.Advance(TimeSpan.FromSeconds(3));
        Set(HealthState.Healthy, HealthState.Healthy, HealthState.Healthy);
        _time.Advance(TimeSpan.FromSeconds(100));

        Assert.Equal(8, Seconds(tracker));
    }

    [Fact]
    public void Totals_ClusterRemoved_ItsSeriesEnds()
    {
        var tracker = new DegradedTimeTracker(_table, _time);
        Set(HealthState.Healthy, HealthState.Healthy, HealthState.Degraded);

        _table.Remove("svc");

        Assert.Empty(tracker.Totals());
    }

    private static double Seconds(DegradedTimeTracker tracker) => Assert.Single(tracker.Totals()).Seconds;

    private void Set(params HealthState[] states)
    {
        var health = Destinations.Select((d, i) => new InstanceHealth("svc", d.DestinationId, states[i], HealthSource.Probe, _time.GetUtcNow()))
            .ToDictionary(h => h.DestinationId, StringComparer.Ordinal);
        _table.TryGet("svc", out var previous);
        _table.Set(ClusterRouting.Build("svc", Destinations, health, previous));
    }
}
