using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using HealthProxy.Gateway.GrpcRouting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>Decides whether a request is a read or a write.</summary>
/// <remarks>
/// A proxied request is classified once, by <see cref="HealthRoutingMiddleware"/>, which records the answer as a
/// <see cref="RequestKindFeature"/>; every later step reads it with <see cref="Of"/>.
/// </remarks>
internal static class RequestKinds
{
    /// <summary>Parses a <see cref="Configuration.HealthProxyMetadata.RequestKind"/> value: <c>Read</c> or <c>Write</c>, any case.</summary>
    public static bool TryParse(string? value, out RequestKind kind)
    {
        if (string.Equals(value, nameof(RequestKind.Read), StringComparison.OrdinalIgnoreCase))
        {
            kind = RequestKind.Read;
            return true;
        }

        if (string.Equals(value, nameof(RequestKind.Write), StringComparison.OrdinalIgnoreCase))
        {
            kind = RequestKind.Write;
            return true;
        }

        kind = default;
        return false;
    }

    /// <summary>
    /// GET, HEAD, OPTIONS and TRACE are reads, everything else is a write, unless the route's
    /// metadata says otherwise.
    /// </summary>
    public static RequestKind Classify(string method, RouteConfig route) =>
        Declared(route) ?? (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method)
            ? RequestKind.Read
            : RequestKind.Write);

    /// <summary>
    /// Classifies a proxied request and records the answer on it; the one place a request is classified. A gRPC call
    /// (<see cref="GrpcCalls.IsGrpc"/>) takes its kind from its method in the route's table (<see cref="GrpcRouteMethods"/>,
    /// where the route's <c>HealthProxy.RequestKind</c>, when set, is every method's), and carries the method too.
    /// </summary>
    public static RequestKindFeature Record(HttpContext context, RouteModel route, GrpcCalls grpc)
    {
        var feature = GrpcCalls.IsGrpc(context.Request)
            ? grpc.For(route).Find(context.Request.Path.Value).Feature
            : RequestKindFeature.For(Classify(context.Request.Method, route.Config));
        context.Features.Set(feature);
        return feature;
    }

    private static RequestKind? Declared(RouteConfig route) =>
        route.Metadata is { } metadata
        && metadata.TryGetValue(Configuration.HealthProxyMetadata.RequestKind, out var declared)
        && TryParse(declared, out var kind)
            ? kind
            : null;

    /// <summary>The kind recorded on a proxied request; classified here only for a request the routing step never saw.</summary>
    public static RequestKind Of(HttpContext context, RouteConfig route) =>
        context.Features.Get<RequestKindFeature>()?.Kind ?? Classify(context.Request.Method, route);
}
