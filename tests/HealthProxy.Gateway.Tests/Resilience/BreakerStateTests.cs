using HealthProxy.Gateway.Resilience;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class BreakerStateTests
{
    private static ClusterPolicy Policy(OutlierDetectionOptions options) =>
        new("svc", options, retriesEnabled: false, new RetryBudget(new RetryOptions(), TimeProvider.System), ejected: null);

    [Fact]
    public void Rebuilt_SamePolicyAfterOpened_StaysOpenAndKeepsTheRun()
    {
        var policy = Policy(new OutlierDetectionOptions { ConsecutiveFailures = 3 });
        var state = new BreakerState();
        state.Rebuilt(policy);
        var streak = state.Streak!;
        streak.Fail();
        state.Opened();

        // The registry's twin build on concurrent first use, finishing after its sibling opened.
        state.Rebuilt(policy);

        Assert.False(state.IsClosed);
        Assert.Same(streak, state.Streak);
        Assert.Equal(2, state.Streak!.Fail());
    }

    [Fact]
    public void Rebuilt_NewPolicy_ClosedWithANewRunOfItsThreshold()
    {
        var state = new BreakerState();
        state.Rebuilt(Policy(new OutlierDetectionOptions { ConsecutiveFailures = 3 }));
        state.Opened();

        state.Rebuilt(Policy(new OutlierDetectionOptions { ConsecutiveFailures = 7 }));

        Assert.True(state.IsClosed);
        Assert.Equal(7, state.Streak!.Threshold);
        Assert.Equal(1, state.Streak.Fail());
    }

    [Theory]
    [InlineData(true, 0.5)]
    [InlineData(false, null)]
    public void Rebuilt_RatioModeOrDisabled_NoRunToCount(bool enabled, double? ratio)
    {
        var state = new BreakerState();

        state.Rebuilt(Policy(new OutlierDetectionOptions { Enabled = enabled, FailureRatio = ratio }));

        Assert.Null(state.Streak);
    }

    [Fact]
    public void Closed_AfterARun_TheRunEnds()
    {
        var state = new BreakerState();
        state.Rebuilt(Policy(new OutlierDetectionOptions { ConsecutiveFailures = 3 }));
        state.Streak!.Fail();
        state.Streak.Fail();
        state.Opened();

        state.Closed();

        Assert.True(state.IsClosed);
        Assert.Equal(1, state.Streak.Fail());
    }
}
