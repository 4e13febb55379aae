using System.Net.Sockets;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A step of YARP's proxy pipeline after load balancing: forwards through the chosen destination's circuit
/// breaker, records the outcome (<see cref="IForwarderErrorFeature"/> and the status code), and retries once on
/// another eligible destination when that is safe and the cluster's retry budget allows.
/// </summary>
/// <remarks>
/// Safe means nothing reached the client yet and: a read failed in transport, timed out, or answered
/// 502/503/504 (its body is withheld by <see cref="RetryResponseTransformProvider"/>); a write's connection was
/// refused (the request never left); or the breaker was open (nothing was sent). A retry re-invokes the rest
/// of the pipeline (YARP's forwarder) with the new destination as the only available one.
/// </remarks>
internal sealed partial class ResilienceMiddleware(
    RequestDelegate next,
    OutlierDetector detector,
    RoutingTable table,
    GatewayMetrics metrics,
    ILogger<ResilienceMiddleware> logger)
{
    private enum Attempt
    {
        Done,
        Failed,
        NotSent,
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        var clusterId = feature.Cluster.Config.ClusterId;
        if (feature.AvailableDestinations.Count != 1 || !detector.TryGetPolicy(clusterId, out var policy))
        {
            context.Features.Set(RetryMarker.Final);
            await next(context).ConfigureAwait(false);
            return;
        }

        var first = feature.AvailableDestinations[0];
        if (policy.RetriesEnabled)
        {
            policy.Budget.RecordRequest();
        }
        else
        {
            context.Features.Set(RetryMarker.Final);
        }

        // The common case inline: one async frame per request, not one per call level.
        var key = new DestinationKey(clusterId, first.DestinationId);
        var state = detector.State(key);
        Attempt attempt;
        if (OutlierDetector.IsClosed(state))
        {
            await next(context).ConfigureAwait(false);
            attempt = await ReportAsync(key, state, context, policy).ConfigureAwait(false);
        }
        else
        {
            attempt = await GuardedAttemptAsync(context, policy, detector.Breaker(key)).ConfigureAwait(false);
        }

        if (attempt == Attempt.Done || context.Response.HasStarted)
        {
            return;
        }

        var kind = RequestKinds.Of(context, feature.Route.Config);
        var reason = policy.RetriesEnabled ? RetryReason(context, kind, attempt, policy) : null;
        var other = reason is null ? null : PickOther(clusterId, kind, first);
        if (other is null)
        {
            if (attempt == Attempt.NotSent)
            {
                // Nowhere else to go: a guess beats a certain 503, so it goes unrecorded to the chosen one.
                await next(context).ConfigureAwait(false);
            }

            return;
        }

        metrics.Retry(clusterId, kind, reason!);
        LogRetry(clusterId, first.DestinationId, other.DestinationId, reason!);
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Features.Set(RetryMarker.Final);
        feature.AvailableDestinations = other;
        if (await AttemptAsync(context, policy, other).ConfigureAwait(false) == Attempt.NotSent && !context.Response.HasStarted)
        {
            await next(context).ConfigureAwait(false);
        }
    }

    private async ValueTask<Attempt> AttemptAsync(HttpContext context, ClusterPolicy policy, DestinationState destination)
    {
        var key = new DestinationKey(policy.ClusterId, destination.DestinationId);
        var state = detector.State(key);
        if (!OutlierDetector.IsClosed(state))
        {
            return await GuardedAttemptAsync(context, policy, detector.Breaker(key)).ConfigureAwait(false);
        }

        await next(context).ConfigureAwait(false);
        return await ReportAsync(key, state, context, policy).ConfigureAwait(false);
    }

    /// <summary>After a request that a closed breaker let through: judges it and reports the outcome to the breaker.</summary>
    private async ValueTask<Attempt> ReportAsync(DestinationKey key, BreakerState? state, HttpContext context, ClusterPolicy policy)
    {
        var outcome = Judge(context, policy);
        await detector.ReportAsync(key, state, outcome, context.RequestAborted).ConfigureAwait(false);
        return outcome == AttemptOutcome.Success ? Attempt.Done : Attempt.Failed;
    }

    /// <summary>An open or half-open breaker decides whether the request may go: the half-open trial is Polly's.</summary>
    private async ValueTask<Attempt> GuardedAttemptAsync(HttpContext context, ClusterPolicy policy, ResiliencePipeline<AttemptOutcome> breaker)
    {
        var resilienceContext = ResilienceContextPool.Shared.Get(context.RequestAborted);
        try
        {
            var outcome = await breaker.ExecuteOutcomeAsync(
                static async (_, state) =>
                {
                    await state.Next(state.Context).ConfigureAwait(false);
                    return Outcome.FromResult(Judge(state.Context, state.Policy));
                },
                resilienceContext,
                (Next: next, Context: context, Policy: policy)).ConfigureAwait(false);
            if (outcome.Exception is BrokenCircuitException)
            {
                return Attempt.NotSent;
            }

            outcome.ThrowIfException();
            return outcome.Result == AttemptOutcome.Success ? Attempt.Done : Attempt.Failed;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
        }
    }

    /// <summary>What the attempt says about the destination: its own errors and the configured status codes count.</summary>
    internal static AttemptOutcome Judge(HttpContext context, ClusterPolicy policy)
    {
        if (context.Features.Get<IForwarderErrorFeature>() is { } error)
        {
            return IsDestinationFault(error.Error) ? AttemptOutcome.Failure : AttemptOutcome.Success;
        }

        return policy.FailureStatusCodes.Contains(context.Response.StatusCode) ? AttemptOutcome.Failure : AttemptOutcome.Success;
    }

    internal static bool IsDestinationFault(ForwarderError error) => error is ForwarderError.Request
        or ForwarderError.RequestTimedOut
        or ForwarderError.RequestBodyDestination
        or ForwarderError.ResponseHeaders
        or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeRequestDestination
        or ForwarderError.UpgradeResponseDestination
        or ForwarderError.UpgradeActivityTimeout;

    /// <summary>True when the error is a refused connection: the request never left the gateway.</summary>
    internal static bool IsConnectionRefused(IForwarderErrorFeature error)
    {
        if (error.Error != ForwarderError.Request)
        {
            return false;
        }

        for (var exception = error.Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private string? RetryReason(HttpContext context, RequestKind kind, Attempt attempt, ClusterPolicy policy)
    {
        if (attempt == Attempt.NotSent)
        {
            return "open_circuit";
        }

        if (context.Features.Get<RetryMarker>() == RetryMarker.Suppressed)
        {
            return "status";
        }

        if (context.Features.Get<IForwarderErrorFeature>() is not { } error || !IsDestinationFault(error.Error))
        {
            return null;
        }

        var reason = IsConnectionRefused(error) ? "refused" : kind == RequestKind.Read ? "transport" : null;
        if (reason is not null && !policy.Budget.TryWithdraw())
        {
            metrics.RetryBudgetExhausted(policy.ClusterId);
            LogBudgetExhausted(policy.ClusterId);
            return null;
        }

        return reason;
    }

    private DestinationState? PickOther(string clusterId, RequestKind kind, DestinationState tried)
    {
        if (!table.TryGet(clusterId, out var routing))
        {
            return null;
        }

        var candidates = routing.Eligible(kind);
        if (candidates.Count == 0)
        {
            candidates = routing.All;
        }

        var count = candidates.Count;
        var start = count > 1 ? Random.Shared.Next(count) : 0;
        for (var i = 0; i < count; i++)
        {
            var candidate = candidates[(start + i) % count];
            if (!ReferenceEquals(candidate, tried) && candidate.DestinationId != tried.DestinationId)
            {
                return candidate;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = GatewayEventIds.RetryBudgetExhausted, Level = LogLevel.Debug,
        Message = "Cluster {ClusterId}'s retry budget is spent; a retryable failure goes back to the client.")]
    private partial void LogBudgetExhausted(string clusterId);

    [LoggerMessage(EventId = GatewayEventIds.RequestRetried, Level = LogLevel.Debug,
        Message = "Retrying a request to {ClusterId}/{DestinationId} on {OtherDestinationId} ({Reason}).")]
    private partial void LogRetry(string clusterId, string destinationId, string otherDestinationId, string reason);
}
