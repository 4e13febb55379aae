namespace HealthProxy.Gateway.Resilience;

/// <summary>Two counts over a sliding window (a retry budget's requests and retries, a destination's successes and failures).</summary>
/// <remarks>
/// The window is ten buckets of a tenth of its length each, on the injected clock. Counting is lock-free and
/// allocates nothing: a bucket whose time has passed is claimed with a compare-exchange on its epoch and zeroed;
/// a count racing that reset may be lost, which moves a sum by one for one bucket.
/// </remarks>
internal sealed class SlidingCounts
{
    private const int BucketCount = 10;

    private readonly TimeProvider _timeProvider;
    private readonly long _bucketTicks;
    private readonly long[] _epochs = new long[BucketCount];
    private readonly long[] _counts = new long[BucketCount * 2];

    public SlidingCounts(TimeSpan window, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _bucketTicks = Math.Max(1, (long)(window.TotalSeconds * timeProvider.TimestampFrequency / BucketCount));
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>Counts one more of the first kind.</summary>
    public void AddFirst() => Interlocked.Increment(ref _counts[Claim(Epoch()) * 2]);

    /// <summary>Counts one more of the second kind.</summary>
    public void AddSecond() => Interlocked.Increment(ref _counts[(Claim(Epoch()) * 2) + 1]);

    /// <summary>Both counts over the window, up to now.</summary>
    public (long First, long Second) Sum()
    {
        var epoch = Epoch();
        long first = 0, second = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            if (Volatile.Read(ref _epochs[i]) > epoch - BucketCount)
            {
                first += Volatile.Read(ref _counts[i * 2]);
                second += Volatile.Read(ref _counts[(i * 2) + 1]);
            }
        }

        return (first, second);
    }

    private long Epoch() => _timeProvider.GetTimestamp() / _bucketTicks;

    private int Claim(long epoch)
    {
        var index = (int)(epoch % BucketCount);
        var seen = Volatile.Read(ref _epochs[index]);
        if (seen != epoch && Interlocked.CompareExchange(ref _epochs[index], epoch, seen) == seen)
        {
            Interlocked.Exchange(ref _counts[index * 2], 0);
            Interlocked.Exchange(ref _counts[(index * 2) + 1], 0);
        }

        return index;
    }
}
