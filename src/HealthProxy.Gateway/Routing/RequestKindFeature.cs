using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// A proxied request's kind, as <see cref="RequestKinds.Record"/> classified it, whether routing sent it by the
/// fallback, and for a gRPC call the method it makes. Only shared instances exist: four for HTTP requests, and two
/// per gRPC method of a route (<see cref="GrpcMethod"/> makes them), so recording it allocates nothing.
/// </summary>
internal sealed class RequestKindFeature
{
    private readonly RequestKindFeature? _fallback;

    private RequestKindFeature(RequestKind kind, RequestKindFeature? fallback, GrpcMethod? grpc)
    {
        Kind = kind;
        _fallback = fallback;
        Grpc = grpc;
    }

    public static RequestKindFeature Read { get; } = new(RequestKind.Read, new(RequestKind.Read, null, null), null);

    public static RequestKindFeature Write { get; } = new(RequestKind.Write, new(RequestKind.Write, null, null), null);

    public RequestKind Kind { get; }

    /// <summary>Whether no instance was eligible for the request's kind, so routing offered the fallback set.</summary>
    public bool Fallback => _fallback is null;

    /// <summary>The gRPC method the request calls; null for a request that is not a gRPC call.</summary>
    public GrpcMethod? Grpc { get; }

    public static RequestKindFeature For(RequestKind kind) => kind == RequestKind.Read ? Read : Write;

    /// <summary>The same request sent by the fallback.</summary>
    public RequestKindFeature AsFallback() => _fallback ?? this;

    /// <summary>The feature of a call to <paramref name="method"/> (made once per method, by the method).</summary>
    internal static RequestKindFeature ForGrpc(GrpcMethod method) =>
        new(method.Kind, new RequestKindFeature(method.Kind, null, method), method);
}
