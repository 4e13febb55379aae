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
    [InlineData(0, 0, 0, AggregateHealth.Unknown)]
    [InlineData(3, 3, 3, AggregateHealth.Healthy)]
    [InlineData(2, 3, 3, AggregateHealth.Degraded)]
    [InlineData(1, 2, 2, AggregateHealth.Degraded)]
    [InlineData(1, 1, 4, AggregateHealth.Degraded)]
    [InlineData(0, 2, 2, AggregateHealth.Degraded)]
    [InlineData(0, 0, 4, AggregateHealth.Unhealthy)]
    [InlineData(1, 1, 1, AggregateHealth.Healthy)]
    public void Service_HealthyAndReadEligibleOutOfTotal_FollowsTheServiceRule(int healthy, int readEligible, int total, AggregateHealth expected)
    {
        Assert.Equal(expected, HealthAggregation.Service(healthy, readEligible, total));
    }

    [Fact]
    public void Service_States_DegradedServesDrainingStartingAndUnhealthyDoNot()
    {
        Assert.Equal(AggregateHealth.Degraded, HealthAggregation.Service([HealthState.Healthy, HealthState.Degraded]));
        Assert.Equal(AggregateHealth.Degraded, HealthAggregation.Service([HealthState.Degraded, HealthState.Unhealthy]));
        Assert.Equal(AggregateHealth.Unhealthy, HealthAggregation.Service([HealthState.Draining, HealthState.Starting, HealthState.Unhealthy]));
        Assert.Equal(AggregateHealth.Unknown, HealthAggregation.Service(Array.Empty<HealthState>()));
    }

    [Theory]
    [InlineData(4, 4, 4, AggregateHealth.Healthy)]
    [InlineData(1, 3, 4, AggregateHealth.Degraded)]
    [InlineData(0, 2, 4, AggregateHealth.Unhealthy)]
    [InlineData(0, 2, 3, AggregateHealth.Degraded)]
    [InlineData(0, 0, 0, AggregateHealth.Unknown)]
    public void GroupServices_ServingOutOfTotal_FollowsTheMajorityRule(int healthy, int serving, int total, AggregateHealth expected)
    {
        Assert.Equal(expected, HealthAggregation.GroupServices(healthy, serving, total));
    }

    [Fact]
    public void Service_MoreHealthyThanReadEligible_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HealthAggregation.Service(3, 2, 3));
    }
}
