using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// A step of YARP's proxy pipeline right after load balancing: counts the request against the destination it chose,
/// by kind and whether it came by the fallback (<see cref="InstanceTraffic"/>). A retry on another destination is
/// not counted again: the counts are load balancing's decisions.
/// </summary>
/// <remarks>No allocation and no lock: a feature read, a lock-free lookup and one compare-and-swap.</remarks>
internal sealed class TrafficMiddleware(RequestDelegate next, InstanceTraffic traffic)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.GetReverseProxyFeature();
        var destinations = feature.AvailableDestinations;
        if (destinations.Count == 1 && context.Features.Get<RequestKindFeature>() is { } kind)
        {
            traffic.Record(destinations[0], kind.Kind, kind.Fallback);
        }

        return next(context);
    }
}
