using HealthProxy.Consul.Discovery;

namespace HealthProxy.Consul.Tests.Discovery;

public sealed class ConsulWatchStatusTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void DataAge_QueryOpenWithinItsWaitAndJitter_Zero()
    {
        var status = new ConsulWatchStatus { LastConfirmed = T0, BlockingSince = T0, BlockingAllowance = TimeSpan.FromSeconds(319) };

        Assert.Equal(TimeSpan.Zero, status.DataAge(T0.AddSeconds(300)));
    }

    [Fact]
    public void DataAge_QueryOpenPastItsWaitAndJitter_GrowsFromWhenConsulWasDue()
    {
        var status = new ConsulWatchStatus { LastConfirmed = T0, BlockingSince = T0, BlockingAllowance = TimeSpan.FromSeconds(319) };

        Assert.Equal(TimeSpan.FromSeconds(41), status.DataAge(T0.AddSeconds(360)));
    }

    [Fact]
    public void ConfirmedUntil_HungQueryFailsAtTheClientTimeout_ConfirmedOnlyUntilItWasDue()
    {
        var status = new ConsulWatchStatus { LastConfirmed = T0, BlockingSince = T0, BlockingAllowance = TimeSpan.FromSeconds(319) };

        Assert.Equal(T0.AddSeconds(319), status.ConfirmedUntil(T0.AddSeconds(330)));
        Assert.Equal(T0.AddSeconds(10), status.ConfirmedUntil(T0.AddSeconds(10)));
    }

    [Fact]
    public void DataAge_NoQueryOpen_TimeSinceLastConfirmed_NullBeforeTheFirstAnswer()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), new ConsulWatchStatus { LastConfirmed = T0 }.DataAge(T0.AddSeconds(5)));
        Assert.Null(new ConsulWatchStatus().DataAge(T0));
    }
}
