using HealthProxy.Health;

namespace HealthProxy.Health.Tests;

public class HealthAggregationTests
{
    [Fact]
    public void Combine_MixedStates_UnhealthyBeatsEverything()
    {
        var all = new[] { HealthState.Healthy, HealthState.Degraded, HealthState.Starting, HealthState.Draining, HealthState.Unhealthy };
        Assert.Equal(HealthState.Unhealthy, HealthAggregation.Combine(all));
        Assert.Equal(HealthState.Draining, HealthAggregation.Combine(all[..4]));
        Assert.Equal(HealthState.Starting, HealthAggregation.Combine(all[..3]));
        Assert.Equal(HealthState.Degraded, HealthAggregation.Combine(all[..2]));
        Assert.Equal(HealthState.Healthy, HealthAggregation.Combine(all[..1]));
    }

    [Fact]
    public void Combine_OrderOfStates_DoesNotMatter()
    {
        Assert.Equal(HealthState.Draining, HealthAggregation.Combine([HealthState.Draining, HealthState.Healthy, HealthState.Starting]));
        Assert.Equal(HealthState.Draining, HealthAggregation.Combine([HealthState.Starting, HealthState.Healthy, HealthState.Draining]));
    }

    [Fact]
    public void Combine_NoParts_IsHealthy()
    {
        Assert.Equal(HealthState.Healthy, HealthAggregation.Combine([]));
    }

    [Theory]
    [InlineData(0, 0, AggregateHealth.Unknown)]
    [InlineData(3, 3, AggregateHealth.Healthy)]
    [InlineData(2, 3, AggregateHealth.Degraded)]
    [InlineData(1, 2, AggregateHealth.Unhealthy)]
    [InlineData(3, 5, AggregateHealth.Degraded)]
    [InlineData(2, 4, AggregateHealth.Unhealthy)]
    [InlineData(0, 4, AggregateHealth.Unhealthy)]
    [InlineData(1, 1, AggregateHealth.Healthy)]
    public void Group_HealthyOutOfTotal_FollowsTheMajorityRule(int healthy, int total, AggregateHealth expected)
    {
        Assert.Equal(expected, HealthAggregation.Group(healthy, total));
    }

    [Fact]
    public void Group_States_CountsOnlyHealthyAsHealthy()
    {
        // Two degraded out of three: only one is fully healthy, which is not more than half.
        Assert.Equal(AggregateHealth.Unhealthy, HealthAggregation.Group([HealthState.Healthy, HealthState.Degraded, HealthState.Degraded]));
        Assert.Equal(AggregateHealth.Degraded, HealthAggregation.Group([HealthState.Healthy, HealthState.Healthy, HealthState.Draining]));
        Assert.Equal(AggregateHealth.Unknown, HealthAggregation.Group(Array.Empty<HealthState>()));
    }

    [Fact]
    public void Group_MoreHealthyThanTotal_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HealthAggregation.Group(4, 3));
    }
}
