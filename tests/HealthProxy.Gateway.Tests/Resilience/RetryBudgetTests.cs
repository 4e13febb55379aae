using HealthProxy.Gateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Resilience;

public class RetryBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryWithdraw_QuietCluster_AllowsOnlyTheFloor()
    {
        var budget = new RetryBudget(new RetryOptions { BudgetRatio = 0.2, MinRetriesPerSecond = 1, BudgetWindow = TimeSpan.FromSeconds(10) }, _time);

        Assert.Equal(10, Withdraw(budget, 100));
    }

    [Fact]
    public void TryWithdraw_BusyCluster_AllowsTwentyPercentPlusTheFloor()
    {
        var budget = new RetryBudget(new RetryOptions { BudgetRatio = 0.2, MinRetriesPerSecond = 1, BudgetWindow = TimeSpan.FromSeconds(10) }, _time);
        for (var i = 0; i < 1000; i++)
        {
            budget.RecordRequest();
        }

        Assert.Equal(210, Withdraw(budget, 1000));
    }

    [Fact]
    public void TryWithdraw_WindowSlidesPast_BudgetRefills()
    {
        var budget = new RetryBudget(new RetryOptions { BudgetRatio = 0, MinRetriesPerSecond = 1, BudgetWindow = TimeSpan.FromSeconds(10) }, _time);
        Assert.Equal(10, Withdraw(budget, 100));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, Withdraw(budget, 100));

        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(10, Withdraw(budget, 100));
    }

    [Fact]
    public void TryWithdraw_OldRequestsLeaveTheWindow_NoLongerCount()
    {
        var budget = new RetryBudget(new RetryOptions { BudgetRatio = 0.5, MinRetriesPerSecond = 0, BudgetWindow = TimeSpan.FromSeconds(10) }, _time);
        for (var i = 0; i < 100; i++)
        {
            budget.RecordRequest();
        }

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.False(budget.TryWithdraw());
    }

    private static int Withdraw(RetryBudget budget, int attempts) => Enumerable.Range(0, attempts).Count(_ => budget.TryWithdraw());
}
