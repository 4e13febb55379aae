using HealthProxy.Consul;
using HealthProxy.Health;
using HealthProxy.Reporting.Publishing;

namespace HealthProxy.Reporting.Tests.Publishing;

public sealed class PublishedCheckTests
{
    [Theory]
    [InlineData(HealthState.Healthy, ConsulCheckStatus.Passing, false)]
    [InlineData(HealthState.Degraded, ConsulCheckStatus.Warning, false)]
    [InlineData(HealthState.Starting, ConsulCheckStatus.Critical, false)]
    [InlineData(HealthState.Unhealthy, ConsulCheckStatus.Critical, false)]
    [InlineData(HealthState.Draining, ConsulCheckStatus.Critical, true)]
    public void For_EachState_StatusAndMaintenance(HealthState state, ConsulCheckStatus status, bool maintenance)
    {
        Assert.Equal(new PublishedCheck(status, maintenance), PublishedCheck.For(state));
    }
}
