using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A step of YARP's proxy pipeline after load balancing: forwards to the chosen destination, tells the
/// destination's <see cref="PassiveHealth"/> what the attempt says about it, and retries once on another eligible
/// destination when <see cref="RetryRules"/> say it is safe and the cluster's retry budget allows.
/// </summary>
/// <remarks>
/// A retry re-invokes the rest of the pipeline (YARP's forwarder) with the new destination as the only available
/// one. A route's metadata can keep its requests out of passive health and retries, and give them their own
/// activity timeout (<see cref="RouteResilience"/>). The common path (a destination not ejected, a success) takes
/// no lock, allocates nothing, and runs in this method's one async frame.
/// </remarks>
internal sealed partial class ResilienceMiddleware(
    RequestDelegate next,
    OutlierDetector detector,
    RouteResilienceTable routes,
    RoutingTable table,
    GatewayMetrics metrics,
    ILogger<ResilienceMiddleware> logger)
{
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
        var retries = settings.RetriesEnabled && route.Retries;
        if (retries)
        {
            cluster.Budget.RecordRequest();
        }
        else
        {
            context.Features.Set(RetryMarker.Final);
        }

        var first = feature.AvailableDestinations[0];
        var health = route.PassiveHealth && cluster.TryGet(first.DestinationId, out var found) ? found : null;
        AttemptFailure failure;
        if (health is { IsEjected: true })
        {
            failure = AttemptFailure.NotSent;
        }
        else
        {
            await next(context).ConfigureAwait(false);
            var error = context.Features.Get<IForwarderErrorFeature>();
            if (error is not null)
            {
                LogError(context, clusterId, first.DestinationId, error);
            }

            if (health is not null)
            {
                health.Record(RetryRules.Judge(error, context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, settings.FailureStatusCodes));
            }

            failure = RetryRules.Classify(error, withheld: context.Features.Get<RetryMarker>() == RetryMarker.Suppressed);
        }

        if (failure == AttemptFailure.None || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        await RetryAsync(context, feature, cluster, route, first, failure, retries).ConfigureAwait(false);
    }

    private async Task RetryAsync(
        HttpContext context, IReverseProxyFeature feature, ClusterResilience cluster, RouteResilience route, DestinationState first, AttemptFailure failure, bool retries)
    {
        var kind = RequestKinds.Of(context, feature.Route.Config);
        var reason = retries ? RetryRules.Reason(failure, kind, RetryRules.HasBody(context.Request)) : null;
        if (reason is not null && RetryRules.NeedsBudget(failure) && !cluster.Budget.TryWithdraw())
        {
            metrics.RetryBudgetExhausted(cluster.ClusterId);
            LogBudgetExhausted(cluster.ClusterId);
            reason = null;
        }

        var other = reason is null ? null : context.Features.Get<RetryTarget>()?.Destination ?? RetryTarget.Pick(table, cluster, kind, first);
        if (other is null)
        {
            if (failure == AttemptFailure.NotSent)
            {
                // Nowhere else to go: a guess beats a certain 503, so it goes, uncounted, to the chosen one, as the last attempt.
                context.Features.Set(RetryMarker.Final);
                await next(context).ConfigureAwait(false);
            }

            return;
        }

        metrics.Retry(cluster.ClusterId, kind, reason!);
        LogRetry(cluster.ClusterId, first.DestinationId, other.DestinationId, reason!);
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Features.Set(RetryMarker.Final);
        feature.AvailableDestinations = other;
        await next(context).ConfigureAwait(false);
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is not null)
        {
            LogError(context, cluster.ClusterId, other.DestinationId, error);
        }

        if (route.PassiveHealth && cluster.TryGet(other.DestinationId, out var health))
        {
            health.Record(RetryRules.Judge(error, context.Response.StatusCode, context.RequestAborted.IsCancellationRequested, cluster.Settings.FailureStatusCodes));
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
        Message = "Retrying a request to {ClusterId}/{DestinationId} on {OtherDestinationId} ({Reason}).")]
    private partial void LogRetry(string clusterId, string destinationId, string otherDestinationId, string reason);
}
