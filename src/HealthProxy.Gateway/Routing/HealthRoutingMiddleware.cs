using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The first step of YARP's proxy pipeline, before load balancing: classifies the request (once; a gRPC call by its method), tags ASP.NET
/// Core's request histogram with its route, cluster and kind, and narrows the request's available destinations to
/// those whose state accepts its kind (reads: healthy and degraded; writes: healthy), or, when none do, to the
/// cluster's fallback set (all of its destinations, or for writes the degraded ones first when the cluster says so).
/// </summary>
/// <remarks>
/// The per-request work is one dictionary lookup in the routing table and field reads of an immutable snapshot.
/// Nothing is allocated: the kind feature is a shared instance, the tag values are strings from config and
/// constants, and Hosting reuses its tag list across a connection's requests.
/// </remarks>
internal sealed partial class HealthRoutingMiddleware(
    RequestDelegate next, RoutingTable table, GrpcCalls grpc, GatewayMetrics metrics, GatewayTracing tracing, ILogger<HealthRoutingMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        var route = feature.Route.Config;
        var clusterId = feature.Cluster.Config.ClusterId;
        var recorded = RequestKinds.Record(context, feature.Route, grpc);
        var kind = recorded.Kind;
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } tags)
        {
            tags.Tags.Add(new(GatewayTags.Route, route.RouteId));
            tags.Tags.Add(new(GatewayTags.Cluster, clusterId));
            tags.Tags.Add(new(GatewayTags.RequestKind, GatewayMetrics.KindName(kind)));
        }

        if (table.TryGet(clusterId, out var routing))
        {
            var eligible = routing.Eligible(kind);
            var fallback = eligible.Count == 0 && routing.All.Count > 0;
            if (fallback)
            {
                eligible = routing.FallbackSet(kind);
                context.Features.Set(recorded.AsFallback());
                metrics.Fallback(clusterId, kind);
                if (routing.Fallback(kind)?.TryAnnounce() == true)
                {
                    LogFallback(clusterId, GatewayMetrics.KindName(kind), eligible.Count, routing.Tier(kind));
                }
            }

            feature.AvailableDestinations = eligible;
            tracing.Routed(clusterId, kind, fallback);
        }

        return next(context);
    }

    [LoggerMessage(EventId = GatewayEventIds.RoutingFallback, Level = LogLevel.Warning,
        Message = "Cluster {ClusterId} has no instance eligible for {RequestKind} requests; routing them to {Count} instances ({Tier}) until one is.")]
    private partial void LogFallback(string clusterId, string requestKind, int count, string tier);
}
