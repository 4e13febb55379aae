using HealthProxy.Gateway.Diagnostics;
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
/// before it gets here. A response below 400 is never retried and costs one comparison.
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
        if (context.ProxyResponse is not { } response
            || (int)response.StatusCode < StatusCodes.Status400BadRequest
            || context.HttpContext.Features.Get<RetryMarker>() is not null)
        {
            return default;
        }

        var feature = context.HttpContext.GetReverseProxyFeature();
        var clusterId = feature.Cluster.Config.ClusterId;
        var kind = RequestKinds.Of(context.HttpContext, feature.Route.Config);
        if (!_detector.TryGetCluster(clusterId, out var cluster)
            || !cluster.Settings.RetriesEnabled
            || !RetryRules.MayWithhold((int)response.StatusCode, _routes.For(feature.Route).PolicyFor(cluster.Settings), kind, RetryRules.HasBody(context.HttpContext.Request))
            || feature.ProxiedDestination is not { } tried)
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
