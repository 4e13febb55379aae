using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// A step of YARP's proxy pipeline, before load balancing: narrows the request's available
/// destinations to those whose state accepts its kind (reads: healthy and degraded; writes: healthy),
/// or, when none do, to all of the cluster's destinations.
/// </summary>
/// <remarks>The per-request work is one dictionary lookup and a field read; nothing is allocated.</remarks>
internal sealed partial class HealthRoutingMiddleware(RequestDelegate next, RoutingTable table, GatewayMetrics metrics, ILogger<HealthRoutingMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        var clusterId = feature.Cluster.Config.ClusterId;
        if (table.TryGet(clusterId, out var routing))
        {
            var kind = RequestKinds.Record(context, feature.Route.Config);
            var eligible = routing.Eligible(kind);
            if (eligible.Count == 0 && routing.All.Count > 0)
            {
                eligible = routing.All;
                metrics.Fallback(clusterId, kind);
                if (routing.Fallback(kind)?.TryAnnounce() == true)
                {
                    LogFallback(clusterId, kind == RequestKind.Read ? "read" : "write", routing.All.Count);
                }
            }

            feature.AvailableDestinations = eligible;
        }

        return next(context);
    }

    [LoggerMessage(EventId = GatewayEventIds.RoutingFallback, Level = LogLevel.Warning,
        Message = "Cluster {ClusterId} has no instance eligible for {RequestKind} requests; routing them to all {Count} instances until one is.")]
    private partial void LogFallback(string clusterId, string requestKind, int count);
}
