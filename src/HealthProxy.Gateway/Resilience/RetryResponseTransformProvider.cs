using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A response transform on every route: when a response's status is one the request's retry policy retries and a
/// retry is possible (<see cref="RetryRules.MayWithhold"/>, a <see cref="RetryTarget"/>, budget left), it withholds
/// the body so nothing reaches the client and marks the request for <see cref="ResilienceMiddleware"/> to retry.
/// A route or cluster without retries, and a request's last attempt, have <see cref="RetryMarker.Final"/> set
/// before it gets here. A gRPC call answered trailers-only (its status in the headers, nothing sent to the client)
/// is withheld the same way when the policy retries that status (<see cref="RetryRules.MayWithholdGrpc"/>) and its
/// body was kept for a replay. Any other response below 400 is never retried and costs two comparisons.
/// </summary>
internal sealed class RetryResponseTransformProvider : ITransformProvider
{
    private readonly OutlierDetector _detector;
    private readonly RoutingTable _table;
    private readonly RouteResilienceTable _routes;
    private readonly GatewayMetrics _metrics;
    private readonly Func<ResponseTransformContext, ValueTask> _transform;

    public RetryResponseTransformProvider(OutlierDetector detector, RoutingTable table, RouteResilienceTable routes, GatewayMetrics metrics)
    {
        _detector = detector;
        _table = table;
        _routes = routes;
        _metrics = metrics;
        _transform = Transform;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddResponseTransform(_transform);

    private ValueTask Transform(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } response || context.HttpContext.Features.Get<RetryMarker>() is not null)
        {
            return default;
        }

        // A gRPC call answers 200 with its status in the headers when it carries no message (trailers-only).
        var grpcStatus = (int)response.StatusCode == StatusCodes.Status200OK && HttpMethods.IsPost(context.HttpContext.Request.Method)
            && GrpcCalls.Of(context.HttpContext) is not null
            ? GrpcStatus.Parse(context.HttpContext.Response.Headers.GrpcStatus)
            : -1;
        if (grpcStatus <= GrpcStatus.Ok && (int)response.StatusCode < StatusCodes.Status400BadRequest)
        {
            return default;
        }

        var http = context.HttpContext;
        var feature = http.GetReverseProxyFeature();
        var clusterId = feature.Cluster.Config.ClusterId;
        var kind = RequestKinds.Of(http, feature.Route.Config);
        if (!_detector.TryGetCluster(clusterId, out var cluster) || !cluster.Settings.RetriesEnabled || feature.ProxiedDestination is not { } tried)
        {
            return default;
        }

        var policy = _routes.For(feature.Route).PolicyFor(cluster.Settings);
        var hasBody = !RetryRules.CanResend(http.Request);
        var retryable = grpcStatus > GrpcStatus.Ok
            ? RetryRules.MayWithholdGrpc(grpcStatus, policy, kind, hasBody, GrpcCalls.IsIdempotent(http))
            : RetryRules.MayWithhold((int)response.StatusCode, policy, kind, hasBody);
        if (!retryable)
        {
            return default;
        }

        var state = context.HttpContext.Features.Get<RetryTarget>() ?? new RetryTarget(tried);
        if (RetryTarget.Pick(_table, cluster, kind, state.Tried) is not { } target)
        {
            return default;
        }

        if (!cluster.Budget.TryWithdraw())
        {
            _metrics.RetryBudgetExhausted(clusterId, "status");
            return default;
        }

        // The body is withheld only with a retry target in hand: the retry cannot find itself with nowhere to go.
        context.SuppressResponseBody = true;
        state.Destination = target;
        context.HttpContext.Features.Set(RetryMarker.Suppressed);
        context.HttpContext.Features.Set(state);
        return default;
    }
}
