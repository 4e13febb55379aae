using System.Runtime.CompilerServices;
using HealthProxy.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// Recognizes gRPC calls and finds the method each one makes. A proxied gRPC call carries its <see cref="GrpcMethod"/>
/// in its request kind feature from the routing step on; every later step reads it with <see cref="Of"/>.
/// </summary>
/// <remarks>
/// Each route's methods are read from its metadata once per route model (a configuration change makes a new
/// model, and the old one's methods go with it).
/// </remarks>
internal sealed class GrpcCalls(string contentRoot)
{
    private readonly ConditionalWeakTable<RouteModel, GrpcRouteMethods> _routes = new();
    private readonly ConditionalWeakTable<RouteModel, GrpcRouteMethods>.CreateValueCallback _create =
        route => GrpcRouteMethods.Parse(route.Config.Metadata, path => ResolvePath(contentRoot, path), $"ReverseProxy:Routes:{route.Config.RouteId}:Metadata", []);

    /// <summary>A descriptor set path as config gives it, relative to the content root (where <c>appsettings.json</c> is).</summary>
    public static string ResolvePath(string contentRoot, string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(contentRoot, path));

    /// <summary>The gRPC methods <paramref name="route"/> knows.</summary>
    public GrpcRouteMethods For(RouteModel route) => _routes.GetValue(route, _create);

    /// <summary>
    /// Whether <paramref name="request"/> is a gRPC call: HTTP/2 or later with an <c>application/grpc</c> content type
    /// (<c>+proto</c>, <c>+json</c> and parameters allowed; gRPC-Web, which carries its status in the body, is not one).
    /// </summary>
    public static bool IsGrpc(HttpRequest request)
    {
        // The method and protocol are interned strings, compared by reference first: a GET or an HTTP/1.1 request stops here.
        if (!HttpMethods.IsPost(request.Method) || !(HttpProtocol.IsHttp2(request.Protocol) || HttpProtocol.IsHttp3(request.Protocol)))
        {
            return false;
        }

        if (request.ContentType is not { Length: >= 16 } contentType
            || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
            || (contentType.Length > 16 && contentType[16] is not ('+' or ';')))
        {
            return false;
        }

        return true;
    }

    /// <summary>The method the proxied gRPC call makes (recorded with its kind); null for a request that is not a gRPC call.</summary>
    public static GrpcMethod? Of(HttpContext context) => context.Features.Get<RequestKindFeature>()?.Grpc;

    /// <summary>Whether the request is a gRPC call to a method declared <c>IDEMPOTENT</c>: a write that may be sent again.</summary>
    public static bool IsIdempotent(HttpContext context) => Of(context) is { Idempotent: true };
}
