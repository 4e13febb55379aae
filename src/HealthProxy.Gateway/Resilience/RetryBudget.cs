namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// How many retries one cluster may still make: at most <see cref="RetryOptions.BudgetRatio"/> of the
/// requests seen over a sliding window, plus <see cref="RetryOptions.MinRetriesPerSecond"/>, so retries
/// never multiply the load on a cluster that is already failing.
/// </summary>
/// <remarks>
/// The window is ten buckets. Counting is lock-free: a bucket whose time has passed is claimed with a
/// compare-exchange on its epoch and zeroed; a count racing that reset may be lost, which only makes the
/// budget a little more generous or strict for one bucket.
/// </remarks>
internal sealed class RetryBudget
{
    private const int BucketCount = 10;

    private readonly TimeProvider _timeProvider;
    private readonly double _ratio;
    private readonly double _floor;
    private readonly long _bucketTicks;
    private readonly long[] _epochs = new long[BucketCount];
    private readonly long[] _requests = new long[BucketCount];
    private readonly long[] _retries = new long[BucketCount];

    public RetryBudget(RetryOptions options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _ratio = options.BudgetRatio;
        _floor = options.MinRetriesPerSecond * options.BudgetWindow.TotalSeconds;
        _bucketTicks = Math.Max(1, (long)(options.BudgetWindow.TotalSeconds * timeProvider.TimestampFrequency / BucketCount));
        Array.Fill(_epochs, -1);
    }

    /// <summary>Counts one original (not retried) request.</summary>
    public void RecordRequest() => Interlocked.Increment(ref _requests[Current()]);

    /// <summary>Takes one retry from the budget; false when it is spent.</summary>
    public bool TryWithdraw()
    {
        var current = Current();
        long requests = 0, retries = 0;
        var epoch = Volatile.Read(ref _epochs[current]);
        for (var i = 0; i < BucketCount; i++)
        {
            if (Volatile.Read(ref _epochs[i]) > epoch - BucketCount)
            {
                requests += Volatile.Read(ref _requests[i]);
                retries += Volatile.Read(ref _retries[i]);
            }
        }

        if (retries + 1 > (requests * _ratio) + _floor)
        {
            return false;
        }

        Interlocked.Increment(ref _retries[current]);
        return true;
    }

    private int Current()
    {
        var epoch = _timeProvider.GetTimestamp() / _bucketTicks;
        var index = (int)(epoch % BucketCount);
        var seen = Volatile.Read(ref _epochs[index]);
        if (seen != epoch && Interlocked.CompareExchange(ref _epochs[index], epoch, seen) == seen)
        {
            Interlocked.Exchange(ref _requests[index], 0);
            Interlocked.Exchange(ref _retries[index], 0);
        }

        return index;
    }
}
