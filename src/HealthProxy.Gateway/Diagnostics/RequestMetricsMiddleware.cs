using HealthProxy.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// Times every proxied request into <c>healthproxy.request.duration</c>, by route, cluster, request kind
/// and outcome, when <see cref="MetricsOptions.LegacyRequestDuration"/> asks for it; ASP.NET Core's own
/// <c>http.server.request.duration</c> carries the same tags (see <c>HealthRoutingMiddleware</c>).
/// </summary>
/// <remarks>Per request: two timestamps, two feature lookups, one histogram record, and this method's async frame (the only allocation).</remarks>
internal sealed class RequestMetricsMiddleware(RequestDelegate next, GatewayMetrics metrics, TimeProvider timeProvider)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            if (context.Features.Get<IReverseProxyFeature>() is { } proxy)
            {
                var route = proxy.Route.Config;
                var outcome = context.Features.Get<IForwarderErrorFeature>() is { } error
                    ? error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled ? "canceled" : "error"
                    : GatewayMetrics.StatusClass(context.Response.StatusCode);
                metrics.Request(
                    route.RouteId,
                    proxy.Cluster?.Config.ClusterId ?? route.ClusterId ?? "",
                    RequestKinds.Of(context, route),
                    outcome,
                    timeProvider.GetElapsedTime(started).TotalSeconds);
            }
        }
    }
}
