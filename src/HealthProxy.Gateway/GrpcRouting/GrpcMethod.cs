using HealthProxy.Health;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// What the gateway knows about one gRPC method of a route: its request kind, whether it may be sent again as a
/// write (<c>IDEMPOTENT</c>), and the name it is counted under. Immutable and shared by every call of the method:
/// it is also the request feature a gRPC call carries (<see cref="GrpcCalls"/>), so classifying allocates nothing.
/// </summary>
internal sealed class GrpcMethod(string label, RequestKind kind, bool idempotent)
{
    /// <summary>The <c>grpc_method</c> metric tag: <c>package.Service/Method</c> or <c>package.Service/*</c> from config, or <c>other</c>.</summary>
    public string Label { get; } = label;

    public RequestKind Kind { get; } = kind;

    /// <summary>Whether the method declared <c>idempotency_level = IDEMPOTENT</c>: a write that may be sent again.</summary>
    public bool Idempotent { get; } = idempotent;

    /// <summary>The label of a method neither the route's metadata nor its descriptor set names.</summary>
    public const string OtherLabel = "other";

    /// <summary>A method the route knows nothing about: a write.</summary>
    public static GrpcMethod Other { get; } = new(OtherLabel, RequestKind.Write, idempotent: false);

    public GrpcMethod AsRead() => Kind == RequestKind.Read ? this : new GrpcMethod(Label, RequestKind.Read, Idempotent);
}
