namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// How many retries one cluster may still make: at most <see cref="RetryOptions.BudgetRatio"/> of the
/// requests seen over a sliding window, plus <see cref="RetryOptions.MinRetriesPerSecond"/>, so retries
/// never multiply the load on a cluster that is already failing.
/// </summary>
/// <remarks>Counted in <see cref="SlidingCounts"/> (requests first, retries second): lock-free, no allocation.</remarks>
internal sealed class RetryBudget
{
    private readonly SlidingCounts _counts;
    private readonly double _ratio;
    private readonly double _floor;

    public RetryBudget(RetryOptions options, TimeProvider timeProvider)
    {
        _counts = new SlidingCounts(options.BudgetWindow, timeProvider);
        _ratio = options.BudgetRatio;
        _floor = options.MinRetriesPerSecond * options.BudgetWindow.TotalSeconds;
    }

    /// <summary>Counts one original (not retried) request.</summary>
    public void RecordRequest() => _counts.AddFirst();

    /// <summary>Takes one retry from the budget; false when it is spent.</summary>
    public bool TryWithdraw()
    {
        var (requests, retries) = _counts.Sum();
        if (retries + 1 > (requests * _ratio) + _floor)
        {
            return false;
        }

        _counts.AddSecond();
        return true;
    }
}
