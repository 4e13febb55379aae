using Polly;
using Polly.CircuitBreaker;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's failure-ratio detector: a Polly v8 circuit breaker over a sliding window of
/// <see cref="OutlierDetectionOptions.SamplingDuration"/>, told the outcome of every attempt the destination served.
/// Its opening is the trip; the ejection that follows (length, cap, end) is <see cref="PassiveHealth"/>'s.
/// </summary>
/// <remarks>
/// Polly's breaker is used as its documentation describes: each outcome is the result of an execution through the
/// pipeline, with the documented <see cref="CircuitBreakerStrategyOptions{TResult}.FailureRatio"/>,
/// <see cref="CircuitBreakerStrategyOptions{TResult}.MinimumThroughput"/> and
/// <see cref="CircuitBreakerStrategyOptions{TResult}.SamplingDuration"/>; nothing reads its state to decide. The
/// proxied call itself runs outside the pipeline and its outcome is executed through it afterwards, so the
/// execution completes synchronously and allocates nothing (holding it open across the call would cost an async
/// frame per request). Nobody gates requests on this breaker: routing follows the state store, so once it opens
/// the window is spent, and the owner replaces it with a fresh, closed one when the ejection ends or is refused.
/// </remarks>
internal sealed class FailureRatioWindow
{
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;

    private FailureRatioWindow(PassiveHealth owner, OutlierDetectionOptions options, TimeProvider timeProvider)
    {
        _pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptOutcome>
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,

                // Longer than any ejection: this window is replaced before the breaker would half-open.
                BreakDuration = TimeSpan.FromDays(1),
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result == AttemptOutcome.Failure),
                OnOpened = _ =>
                {
                    owner.Tripped(this);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>A window for <paramref name="owner"/>, or null when <paramref name="options"/> turn the detector off.</summary>
    public static FailureRatioWindow? For(PassiveHealth owner, OutlierDetectionOptions options, TimeProvider timeProvider) =>
        options.Enabled && options.FailureRatio > 0 ? new FailureRatioWindow(owner, options, timeProvider) : null;

    /// <summary>
    /// Executes <paramref name="outcome"/> through the breaker. Completes synchronously unless this outcome opens
    /// it: then it completes once the owner has handled the trip.
    /// </summary>
    public ValueTask RecordAsync(AttemptOutcome outcome)
    {
        var context = ResilienceContextPool.Shared.Get();
        var pending = _pipeline.ExecuteOutcomeAsync(
            static (_, outcome) => new ValueTask<Outcome<AttemptOutcome>>(Outcome.FromResult(outcome)),
            context,
            outcome);
        if (pending.IsCompletedSuccessfully)
        {
            _ = pending.Result;
            ResilienceContextPool.Shared.Return(context);
            return default;
        }

        return AwaitAsync(pending, context);
    }

    private static async ValueTask AwaitAsync(ValueTask<Outcome<AttemptOutcome>> pending, ResilienceContext context)
    {
        try
        {
            _ = await pending.ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
