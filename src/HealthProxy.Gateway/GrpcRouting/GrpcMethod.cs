using HealthProxy.Gateway.Routing;
using HealthProxy.Health;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// What the gateway knows about one gRPC method of a route: its request kind, whether it may be sent again as a
/// write (<c>IDEMPOTENT</c>), and the name it is counted under. Immutable and shared by every call of the method:
/// it makes the request kind features its calls carry (<see cref="Feature"/>), so classifying allocates nothing.
/// </summary>
internal sealed class GrpcMethod
{
    public GrpcMethod(string label, RequestKind kind, bool idempotent)
    {
        Label = label;
        Kind = kind;
        Idempotent = idempotent;
        Feature = RequestKindFeature.ForGrpc(this);
    }

    /// <summary>The <c>grpc_method</c> metric tag: <c>package.Service/Method</c> or <c>package.Service/*</c> from config, or <c>other</c>.</summary>
    public string Label { get; }

    public RequestKind Kind { get; }

    /// <summary>Whether the method declared <c>idempotency_level = IDEMPOTENT</c>: a write that may be sent again.</summary>
    public bool Idempotent { get; }

    /// <summary>The request kind feature a call of this method carries (its fallback sibling: <see cref="RequestKindFeature.AsFallback"/>).</summary>
    public RequestKindFeature Feature { get; }

    /// <summary>The label of a method neither the route's metadata nor its descriptor set names.</summary>
    public const string OtherLabel = "other";

    /// <summary>A method the route knows nothing about: a write.</summary>
    public static GrpcMethod Other { get; } = new(OtherLabel, RequestKind.Write, idempotent: false);

    public GrpcMethod AsRead() => WithKind(RequestKind.Read);

    public GrpcMethod WithKind(RequestKind kind) => Kind == kind ? this : new GrpcMethod(Label, kind, Idempotent);
}
