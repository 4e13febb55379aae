namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's failure-ratio detector: the share of failures among its outcomes over the last
/// <see cref="OutlierDetectionOptions.SamplingDuration"/>, judged once the window holds
/// <see cref="OutlierDetectionOptions.MinimumThroughput"/> outcomes (Envoy's <c>failure_percentage</c>, Polly's
/// advanced circuit breaker).
/// </summary>
/// <remarks>
/// <para>
/// The window is ten buckets of a tenth of the sampling duration each, on the injected clock. Counting is
/// lock-free and allocates nothing: a bucket whose time has passed is claimed with a compare-exchange on its
/// epoch and zeroed; a count racing that reset may be lost, which moves the ratio by one outcome for one bucket.
/// A success is one increment; only a failure sums the window to judge it.
/// </para>
/// <para>
/// Why not Polly's circuit breaker, which judges exactly this: it is an execution wrapper whose controller takes
/// its lock before and after every execution, so every request to a destination would pass one lock shared by
/// all the cores serving it, where the request path takes none; and it would gate requests on its own open and
/// half-open states, while routing here follows the state store alone. Feeding it outcomes without gating would
/// use it against its documentation. The ratio is a few lines of counting, owned here.
/// </para>
/// </remarks>
internal sealed class FailureRatioWindow
{
    private const int BucketCount = 10;

    private readonly TimeProvider _timeProvider;
    private readonly double _ratio;
    private readonly int _minimumThroughput;
    private readonly long _bucketTicks;
    private readonly long[] _epochs = new long[BucketCount];
    private readonly long[] _successes = new long[BucketCount];
    private readonly long[] _failures = new long[BucketCount];

    private FailureRatioWindow(OutlierDetectionOptions options, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _ratio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
        _bucketTicks = Math.Max(1, (long)(options.SamplingDuration.TotalSeconds * timeProvider.TimestampFrequency / BucketCount));
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>A window under <paramref name="options"/>, or null when they turn the detector off.</summary>
    public static FailureRatioWindow? For(OutlierDetectionOptions options, TimeProvider timeProvider) =>
        options.Enabled && options.FailureRatio > 0 ? new FailureRatioWindow(options, timeProvider) : null;

    /// <summary>Counts one outcome; true when it is a failure that brings the window to the ratio.</summary>
    public bool Record(AttemptOutcome outcome)
    {
        var epoch = _timeProvider.GetTimestamp() / _bucketTicks;
        var current = Claim(epoch);
        if (outcome != AttemptOutcome.Failure)
        {
            Interlocked.Increment(ref _successes[current]);
            return false;
        }

        Interlocked.Increment(ref _failures[current]);
        long failures = 0, total = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            if (Volatile.Read(ref _epochs[i]) > epoch - BucketCount)
            {
                var failed = Volatile.Read(ref _failures[i]);
                failures += failed;
                total += failed + Volatile.Read(ref _successes[i]);
            }
        }

        return total >= _minimumThroughput && failures >= _ratio * total;
    }

    private int Claim(long epoch)
    {
        var index = (int)(epoch % BucketCount);
        var seen = Volatile.Read(ref _epochs[index]);
        if (seen != epoch && Interlocked.CompareExchange(ref _epochs[index], epoch, seen) == seen)
        {
            Interlocked.Exchange(ref _successes[index], 0);
            Interlocked.Exchange(ref _failures[index], 0);
        }

        return index;
    }
}
