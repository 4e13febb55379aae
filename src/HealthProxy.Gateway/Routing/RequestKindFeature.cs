using HealthProxy.Health;

namespace HealthProxy.Gateway.Routing;

/// <summary>A proxied request's kind, as <see cref="RequestKinds.Record"/> classified it. Only the two shared instances exist.</summary>
internal sealed class RequestKindFeature
{
    private RequestKindFeature(RequestKind kind) => Kind = kind;

    public static RequestKindFeature Read { get; } = new(RequestKind.Read);

    public static RequestKindFeature Write { get; } = new(RequestKind.Write);

    public RequestKind Kind { get; }

    public static RequestKindFeature For(RequestKind kind) => kind == RequestKind.Read ? Read : Write;
}
