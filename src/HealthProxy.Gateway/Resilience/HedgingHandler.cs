using HealthProxy.Gateway.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// The forwarder's outermost handler: carries out a request's <see cref="HedgePlan"/>. When the first try has no
/// response headers after the plan's delay (on the injected clock), and the cluster's retry budget allows one more
/// try, a copy of the request goes to the plan's other instance; whichever answers first is forwarded, and the other
/// is cancelled and its response disposed. A request without a plan passes straight through.
/// </summary>
/// <remarks>
/// A try that fails before the other answers does not decide the race: the other may still answer. Each try runs
/// under its own token linked to the forwarder's, so the loser is cancelled alone; the winner's source is left to the
/// forwarder's token (its registration goes when that token's source is reset or disposed), since the forwarder may
/// still cancel the winner's response body through it.
/// </remarks>
internal sealed partial class HedgingHandler(HedgePlans plans, TimeProvider timeProvider, GatewayMetrics metrics, GatewayTracing tracing, ILogger<HedgingHandler> logger)
    : DelegatingHandler
{
    public const string Won = "won";
    public const string Lost = "lost";
    public const string SkippedBudget = "skipped_budget";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!plans.TryTake(request, out var plan) || request.Content is not null)
        {
            return base.SendAsync(request, cancellationToken);
        }

        return HedgeAsync(request, plan, cancellationToken);
    }

    private async Task<HttpResponseMessage> HedgeAsync(HttpRequestMessage request, HedgePlan plan, CancellationToken cancellationToken)
    {
        var primaryCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var primary = base.SendAsync(request, primaryCancel.Token);
        using (var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var delay = Task.Delay(plan.Delay, timeProvider, delayCancel.Token);
            if (await Task.WhenAny(primary, delay).ConfigureAwait(false) == primary || cancellationToken.IsCancellationRequested)
            {
                await delayCancel.CancelAsync().ConfigureAwait(false);
                return await primary.ConfigureAwait(false);
            }
        }

        if (plan.CloneFor(request) is not { } copy)
        {
            return await primary.ConfigureAwait(false);
        }

        if (!plan.Budget.TryWithdraw())
        {
            copy.Dispose();
            metrics.Hedge(plan.ClusterId, SkippedBudget);
            return await primary.ConfigureAwait(false);
        }

        LogHedged(plan.ClusterId, plan.Alternate.DestinationId, plan.Delay.TotalMilliseconds);
        var hedgeCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var hedge = base.SendAsync(copy, hedgeCancel.Token);

        var first = await Task.WhenAny(primary, hedge).ConfigureAwait(false);
        if (!first.IsCompletedSuccessfully)
        {
            var other = first == primary ? hedge : primary;
            await ((Task)other).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!other.IsCompletedSuccessfully)
            {
                // Neither answered: the first try's failure is the one the forwarder reports.
                Discard(hedge, hedgeCancel);
                return await primary.ConfigureAwait(false);
            }

            first = other;
        }

        var won = first == hedge;
        if (won)
        {
            plan.MarkWon();
            await primaryCancel.CancelAsync().ConfigureAwait(false);
            Discard(primary, primaryCancel);
        }
        else
        {
            await hedgeCancel.CancelAsync().ConfigureAwait(false);
            Discard(hedge, hedgeCancel);
        }

        var outcome = won ? Won : Lost;
        metrics.Hedge(plan.ClusterId, outcome);
        tracing.Hedged(plan.Alternate.DestinationId, outcome);
        return await first.ConfigureAwait(false);
    }

    /// <summary>Disposes the losing try's response when it comes (or observes its failure), then its token source.</summary>
    private static void Discard(Task<HttpResponseMessage> loser, CancellationTokenSource cancel) =>
        _ = loser.ContinueWith(
            static (task, state) =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    task.Result.Dispose();
                }
                else
                {
                    _ = task.Exception;
                }

                ((CancellationTokenSource)state!).Dispose();
            },
            cancel,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    [LoggerMessage(EventId = GatewayEventIds.ReadHedged, Level = LogLevel.Debug,
        Message = "A read to cluster {ClusterId} had no answer after {DelayMs} ms; hedged on {DestinationId}.")]
    private partial void LogHedged(string clusterId, string destinationId, double delayMs);
}
