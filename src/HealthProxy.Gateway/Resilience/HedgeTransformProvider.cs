using HealthProxy.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A request transform on each route with a hedge delay (<see cref="Configuration.HealthProxyMetadata.HedgeDelay"/>;
/// routes without one get no transform at all): for a read without a body (<see cref="RetryRules.MayHedge"/>) it
/// picks another read-eligible instance (<see cref="HedgePlan.PickAlternate"/>) and attaches the plan to the outgoing
/// request for <see cref="HedgingHandler"/>.
/// </summary>
internal sealed class HedgeTransformProvider(OutlierDetector detector, RoutingTable table, HedgePlans plans) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        // Validated when the configuration loaded (RouteResilienceConfigFilter); a route is rebuilt when its metadata changes.
        if (RouteResilience.For(context.Route).HedgeDelay is { } delay)
        {
            context.AddRequestTransform(transform => Plan(transform, delay));
        }
    }

    private ValueTask Plan(RequestTransformContext context, TimeSpan delay)
    {
        var http = context.HttpContext;
        http.Features.Set<HedgePlan>(null);
        var feature = http.GetReverseProxyFeature();
        var clusterId = feature.Cluster.Config.ClusterId;
        if (feature.ProxiedDestination is not { } tried
            || !RetryRules.MayHedge(RequestKinds.Of(http, feature.Route.Config), RetryRules.HasBody(http.Request))
            || !detector.TryGetCluster(clusterId, out var cluster)
            || !table.TryGet(clusterId, out var routing)
            || HedgePlan.PickAlternate(routing, cluster, tried, http.Features.Get<RetryTarget>()?.Tried) is not { } alternate)
        {
            return default;
        }

        var plan = new HedgePlan(clusterId, alternate, context.DestinationPrefix, delay, cluster.Budget);
        plans.Attach(context.ProxyRequest, plan);
        http.Features.Set(plan);
        return default;
    }
}
