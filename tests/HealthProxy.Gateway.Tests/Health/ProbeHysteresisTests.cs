using HealthProxy.Gateway.Health;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Tests.Health;

public class ProbeHysteresisTests
{
    [Fact]
    public void Observe_FirstResult_IsTakenAsItIs()
    {
        var hysteresis = new ProbeHysteresis(unhealthyThreshold: 2, healthyThreshold: 1);
        Assert.True(hysteresis.Observe(HealthState.Unhealthy));
        Assert.Equal(HealthState.Unhealthy, hysteresis.Current);
    }

    [Fact]
    public void Observe_OneLostProbe_DoesNotFlapAHealthyInstance()
    {
        var hysteresis = new ProbeHysteresis(2, 1);
        hysteresis.Observe(HealthState.Healthy);

        Assert.False(hysteresis.Observe(HealthState.Unhealthy));
        Assert.Equal(HealthState.Healthy, hysteresis.Current);
        Assert.False(hysteresis.Observe(HealthState.Healthy));
        Assert.False(hysteresis.Observe(HealthState.Unhealthy));
        Assert.Equal(HealthState.Healthy, hysteresis.Current);
    }

    [Fact]
    public void Observe_FailuresInARow_TakeTheInstanceDownAtTheThreshold()
    {
        var hysteresis = new ProbeHysteresis(3, 1);
        hysteresis.Observe(HealthState.Degraded);

        Assert.False(hysteresis.Observe(HealthState.Unhealthy));
        Assert.False(hysteresis.Observe(HealthState.Unhealthy));
        Assert.True(hysteresis.Observe(HealthState.Unhealthy));
        Assert.Equal(HealthState.Unhealthy, hysteresis.Current);
    }

    [Fact]
    public void Observe_GoodResultsInARow_BringItBackAtTheThreshold()
    {
        var hysteresis = new ProbeHysteresis(1, 2);
        hysteresis.Observe(HealthState.Unhealthy);

        Assert.False(hysteresis.Observe(HealthState.Healthy));
        Assert.False(hysteresis.Observe(HealthState.Unhealthy));
        Assert.False(hysteresis.Observe(HealthState.Degraded));
        Assert.True(hysteresis.Observe(HealthState.Degraded));
        Assert.Equal(HealthState.Degraded, hysteresis.Current);
    }

    [Theory]
    [InlineData(HealthState.Degraded)]
    [InlineData(HealthState.Starting)]
    [InlineData(HealthState.Draining)]
    public void Observe_InstanceOwnStatement_AppliesAtOnce(HealthState statement)
    {
        var hysteresis = new ProbeHysteresis(5, 5);
        hysteresis.Observe(HealthState.Healthy);

        Assert.True(hysteresis.Observe(statement));
        Assert.Equal(statement, hysteresis.Current);
    }

    [Fact]
    public void Observe_UnhealthyTheInstanceStates_AppliesAtOnce_ButAFailedProbeIsStillDamped()
    {
        var hysteresis = new ProbeHysteresis(3, 1);
        hysteresis.Observe(HealthState.Healthy);

        Assert.False(hysteresis.Observe(HealthState.Unhealthy, declared: false));
        Assert.Equal(HealthState.Healthy, hysteresis.Current);

        Assert.True(hysteresis.Observe(HealthState.Unhealthy, declared: true));
        Assert.Equal(HealthState.Unhealthy, hysteresis.Current);
    }
}
