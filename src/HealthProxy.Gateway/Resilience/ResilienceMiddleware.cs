using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A step of YARP's proxy pipeline after load balancing: forwards to the chosen destination, tells the
/// destination's <see cref="PassiveHealth"/> what the attempt says about it, and retries on other eligible
/// destinations, up to the retry policy's <see cref="RetryPolicy.MaxAttempts"/>, when the policy lists the failure,
/// <see cref="RetryRules"/> say it is safe and the cluster's retry budget allows; each retry waits a jittered
/// backoff (<see cref="RetryBackoff"/>) first.
/// </summary>
/// <remarks>
/// A retry re-invokes the rest of the pipeline (YARP's forwarder) with the new destination as the only available
/// one. A route's metadata can keep its requests out of passive health and retries, override its cluster's retry
/// policy, and give them their own activity timeout (<see cref="RouteResilience"/>). A per-try timeout runs each
/// attempt under its own cancellation (the request's <c>RequestAborted</c> is swapped for the attempt and put back
/// after it), so a timed-out try is told apart from a client that went away. The common path (a destination not
/// ejected, a success, no per-try timeout) takes no lock, allocates nothing, and runs in this method's one async frame.
/// </remarks>
internal sealed partial class ResilienceMiddleware(
    RequestDelegate next,
    OutlierDetector detector,
    RouteResilienceTable routes,
    RoutingTable table,
    GatewayMetrics metrics,
    GatewayTracing tracing,
    IOptions<RetryOptions> retryOptions,
    ILogger<ResilienceMiddleware> logger)
{
    private readonly TimeSpan _backoffBase = retryOptions.Value.BackoffBaseDelay;
    private readonly TimeSpan _backoffMax = retryOptions.Value.BackoffMaxDelay;

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        var route = routes.For(feature.Route);
        if (route.ActivityTimeout is not null)
        {
            // One allocation, for a route that asked for its own timeout (long polls, streams).
            feature = new RouteClusterFeature(feature, route.ClusterFor(feature.Cluster));
            context.Features.Set(feature);
        }

        var clusterId = feature.Cluster.Config.ClusterId;
        if (feature.AvailableDestinations.Count != 1 || !detector.TryGetCluster(clusterId, out var cluster))
        {
            context.Features.Set(RetryMarker.Final);
            await next(context).ConfigureAwait(false);
            return;
        }

        var settings = cluster.Settings;
        var policy = route.PolicyFor(settings);
        var retries = settings.RetriesEnabled && route.Retries && policy.MaxAttempts > 1;
        if (retries)
        {
            cluster.Budget.RecordRequest();
        }
        else
        {
            context.Features.Set(RetryMarker.Final);
        }

        // Every gRPC call is a POST: other methods skip the feature lookup.
        var grpc = HttpMethods.IsPost(context.Request.Method) ? GrpcCalls.Of(context) : null;
        if (retries && grpc is not null && (grpc.Kind == RequestKind.Read || grpc.Idempotent || policy.IdempotentWrites))
        {
            // A gRPC call a retry may send again keeps its (small) request message for the replay.
            var replayable = new ReplayableBody(context.Request.Body);
            context.Request.Body = replayable;
            context.Response.RegisterForDispose(replayable);
        }

        var first = feature.AvailableDestinations[0];
        if (settings.FailoverTimeout is { } failoverTimeout && route.ActivityTimeout is null
            && failoverTimeout.ClusterFor(feature.Cluster, first) is var forTier && !ReferenceEquals(forTier, feature.Cluster))
        {
            // A remote tier's own activity timeout; retries stay in the tier, so it holds for them too.
            feature = new RouteClusterFeature(feature, forTier);
            context.Features.Set(feature);
        }

        var health = route.PassiveHealth && cluster.TryGet(first.DestinationId, out var found) ? found : null;
        AttemptFailure failure;
        tracing.Attempting(clusterId, first.DestinationId, 1, health is { IsEjected: true }, reason: null);
        if (health is { IsEjected: true })
        {
            failure = AttemptFailure.NotSent;
        }
        else
        {
            var timedOut = false;
            if (policy.PerTryTimeout is { } perTry)
            {
                timedOut = await NextWithTimeoutAsync(context, perTry).ConfigureAwait(false);
            }
            else
            {
                await next(context).ConfigureAwait(false);
            }

            failure = Conclude(context, cluster, route, first.DestinationId, health, timedOut, grpc);
        }

        if (failure == AttemptFailure.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        await RetryAsync(context, feature, cluster, route, policy, first, failure, retries, grpc).ConfigureAwait(false);
    }

    private async Task RetryAsync(
        HttpContext context, IReverseProxyFeature feature, ClusterResilience cluster, RouteResilience route, RetryPolicy policy, DestinationState first, AttemptFailure failure, bool retries, GrpcMethod? grpc)
    {
        var kind = RequestKinds.Of(context, feature.Route.Config);
        var hasBody = !RetryRules.CanResend(context.Request);
        var idempotent = grpc is { Idempotent: true };
        var state = context.Features.Get<RetryTarget>();
        if (state is null)
        {
            state = new RetryTarget(first);
            context.Features.Set(state);
        }

        while (true)
        {
            var reason = retries ? RetryRules.Reason(failure, policy, kind, hasBody, idempotent) : null;
            if (reason is not null && RetryRules.NeedsBudget(failure) && !cluster.Budget.TryWithdraw())
            {
                metrics.RetryBudgetExhausted(cluster.ClusterId, reason);
                LogBudgetExhausted(cluster.ClusterId);
                reason = null;
            }

            var other = reason is null ? null : state.Destination ?? RetryTarget.Pick(table, cluster, kind, state.Tried);
            if (other is null)
            {
                if (failure == AttemptFailure.NotSent)
                {
                    // Nowhere else to go: a guess beats a certain 503, so it goes, uncounted, to the chosen one, as the last attempt.
                    context.Features.Set(RetryMarker.Final);
                    await next(context).ConfigureAwait(false);
                }
                else if (failure == AttemptFailure.PerTryTimeout && !context.Response.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
                }

                return;
            }

            var attempt = state.Attempts + 1;
            var tried = state.Tried[^1];
            metrics.Retry(cluster.ClusterId, kind, reason!, attempt);
            LogRetry(cluster.ClusterId, tried.DestinationId, other.DestinationId, reason!, attempt);
            if (failure != AttemptFailure.NotSent && !await BackOffAsync(context, attempt - 1).ConfigureAwait(false))
            {
                return;
            }

            context.Response.Clear();
            context.Features.Set<IForwarderErrorFeature>(null);
            if (context.Request.Body is ReplayableBody { CanReplay: true } replay)
            {
                replay.Rewind();
            }

            state.Tries(other);
            var last = attempt >= policy.MaxAttempts;
            context.Features.Set(last ? RetryMarker.Final : null);
            feature.AvailableDestinations = other;
            var health = route.PassiveHealth && cluster.TryGet(other.DestinationId, out var found) ? found : null;
            tracing.Attempting(cluster.ClusterId, other.DestinationId, attempt, ejected: false, reason);
            var timedOut = false;
            if (policy.PerTryTimeout is { } perTry)
            {
                timedOut = await NextWithTimeoutAsync(context, perTry).ConfigureAwait(false);
            }
            else
            {
                await next(context).ConfigureAwait(false);
            }

            failure = Conclude(context, cluster, route, other.DestinationId, health, timedOut, grpc);
            if (failure == AttemptFailure.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            if (last)
            {
                if (failure == AttemptFailure.PerTryTimeout)
                {
                    context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
                }

                return;
            }
        }
    }

    /// <summary>
    /// What the attempt just made says: logged, recorded in the destination's passive health (a per-try timeout is
    /// the destination's failure), and classified for the retry decision. An attempt a hedge answered
    /// (<see cref="HedgingHandler"/>) says nothing about the destination it was sent to, which was only slow.
    /// </summary>
    private AttemptFailure Conclude(
        HttpContext context, ClusterResilience cluster, RouteResilience route, string destinationId, PassiveHealth? health, bool timedOut, GrpcMethod? grpc)
    {
        if (route.HedgeDelay is not null && context.Features.Get<HedgePlan>() is { Won: true })
        {
            health = null;
        }

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (timedOut)
        {
            LogPerTryTimeout(cluster.ClusterId, destinationId);
        }
        else if (error is not null)
        {
            LogError(context, cluster.ClusterId, destinationId, error);
        }

        var grpcStatus = -1;
        if (grpc is not null)
        {
            grpcStatus = error is null ? GrpcStatus.Of(context.Response) : -1;
            metrics.GrpcResponse(cluster.ClusterId, grpc.Label, grpcStatus);
        }

        health?.Record(timedOut
            ? AttemptOutcome.Failure
            : RetryRules.Judge(
                error, context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, cluster.Settings.FailureStatusCodes, grpcStatus, cluster.Settings.GrpcFailureCodes));
        return RetryRules.Classify(error, withheld: context.Features.Get<RetryMarker>() == RetryMarker.Suppressed, perTryTimedOut: timedOut);
    }

    /// <summary>
    /// Runs the rest of the pipeline with <c>RequestAborted</c> cancelled after <paramref name="timeout"/> too (on the
    /// injected clock); true when that timeout, not the client, ended the attempt.
    /// </summary>
    private async Task<bool> NextWithTimeoutAsync(HttpContext context, TimeSpan timeout)
    {
        var requestAborted = context.RequestAborted;
        using var attempt = new CancellationTokenSource(timeout, detector.TimeProvider);
        using var link = requestAborted.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), attempt);
        context.RequestAborted = attempt.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = requestAborted;
        }

        return attempt.IsCancellationRequested && !requestAborted.IsCancellationRequested;
    }

    /// <summary>Waits the backoff before retry number <paramref name="retry"/>; false when the client went away meanwhile.</summary>
    private async Task<bool> BackOffAsync(HttpContext context, int retry)
    {
        var delay = RetryBackoff.Delay(retry, _backoffBase, _backoffMax, Random.Shared.NextDouble());
        if (delay <= TimeSpan.Zero)
        {
            return true;
        }

        try
        {
            await Task.Delay(delay, detector.TimeProvider, context.RequestAborted).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// One line per failed attempt, in place of YARP's forwarder log (a Warning with the whole stack trace, filtered
    /// out by <see cref="ResilienceServiceCollectionExtensions"/>): a fault of the destination at Warning, with the
    /// innermost error's message; one the client caused at Debug. A client that broke its own request is gone, so
    /// its connection is aborted rather than drained.
    /// </summary>
    private void LogError(HttpContext context, string clusterId, string destinationId, IForwarderErrorFeature error)
    {
        if (RetryRules.IsDestinationFault(error.Error) && !context.RequestAborted.IsCancellationRequested)
        {
            if (logger.IsEnabled(LogLevel.Warning))
            {
                var reason = Innermost(error.Exception);
                LogForwardingFailed(clusterId, destinationId, error.Error, reason);
            }

            return;
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            var reason = Innermost(error.Exception);
            LogClientAbandoned(clusterId, destinationId, error.Error, reason);
        }

        if (error.Error is ForwarderError.RequestBodyClient && IsBodyTooLarge(error.Exception) && !context.Response.HasStarted)
        {
            // The client is still there and sent more than the route allows (MaxRequestBodySize): it is told so.
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        if (error.Error is ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled or ForwarderError.RequestCanceled)
        {
            context.Abort();
        }
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    private static string Innermost(Exception? exception)
    {
        if (exception is null)
        {
            return "no exception";
        }

        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception.Message;
    }

    [LoggerMessage(EventId = GatewayEventIds.ForwardingFailed, Level = LogLevel.Warning,
        Message = "Forwarding to {ClusterId}/{DestinationId} failed: {Error}: {Reason}")]
    private partial void LogForwardingFailed(string clusterId, string destinationId, ForwarderError error, string reason);

    [LoggerMessage(EventId = GatewayEventIds.ClientAbandonedRequest, Level = LogLevel.Debug,
        Message = "The client abandoned its request to {ClusterId}/{DestinationId} ({Error}: {Reason}); it does not count against the instance.")]
    private partial void LogClientAbandoned(string clusterId, string destinationId, ForwarderError error, string reason);

    [LoggerMessage(EventId = GatewayEventIds.RetryBudgetExhausted, Level = LogLevel.Debug,
        Message = "Cluster {ClusterId}'s retry budget is spent; a retryable failure goes back to the client.")]
    private partial void LogBudgetExhausted(string clusterId);

    [LoggerMessage(EventId = GatewayEventIds.RequestRetried, Level = LogLevel.Debug,
        Message = "Retrying a request to {ClusterId}/{DestinationId} on {OtherDestinationId} ({Reason}), attempt {Attempt}.")]
    private partial void LogRetry(string clusterId, string destinationId, string otherDestinationId, string reason, int attempt);

    [LoggerMessage(EventId = GatewayEventIds.PerTryTimeout, Level = LogLevel.Warning,
        Message = "An attempt to {ClusterId}/{DestinationId} ran past its per-try timeout and was cancelled.")]
    private partial void LogPerTryTimeout(string clusterId, string destinationId);
}
