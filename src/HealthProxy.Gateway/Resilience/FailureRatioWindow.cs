namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's failure-ratio detector: the share of failures among its outcomes over the last
/// <see cref="OutlierDetectionOptions.SamplingDuration"/>, judged once the window holds
/// <see cref="OutlierDetectionOptions.MinimumThroughput"/> outcomes (Envoy's <c>failure_percentage</c>, Polly's
/// advanced circuit breaker).
/// </summary>
/// <remarks>
/// <para>
/// Counted in <see cref="SlidingCounts"/> (successes first, failures second): lock-free, no allocation. A success
/// is one increment; only a failure sums the window to judge it.
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
    private readonly SlidingCounts _counts;
    private readonly double _ratio;
    private readonly int _minimumThroughput;

    private FailureRatioWindow(OutlierDetectionOptions options, TimeProvider timeProvider)
    {
        _counts = new SlidingCounts(options.SamplingDuration, timeProvider);
        _ratio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
    }

    /// <summary>A window under <paramref name="options"/>, or null when they turn the detector off.</summary>
    public static FailureRatioWindow? For(OutlierDetectionOptions options, TimeProvider timeProvider) =>
        options.Enabled && options.FailureRatio > 0 ? new FailureRatioWindow(options, timeProvider) : null;

    /// <summary>Counts one outcome; true when it is a failure that brings the window to the ratio.</summary>
    public bool Record(AttemptOutcome outcome)
    {
        if (outcome != AttemptOutcome.Failure)
        {
            _counts.AddFirst();
            return false;
        }

        _counts.AddSecond();
        var (successes, failures) = _counts.Sum();
        var total = successes + failures;
        return total >= _minimumThroughput && failures >= _ratio * total;
    }
}
