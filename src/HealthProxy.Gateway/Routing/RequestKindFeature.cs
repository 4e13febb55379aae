using HealthProxy.Health;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// A proxied request's kind, as <see cref="RequestKinds.Record"/> classified it, and whether routing sent it by the
/// fallback. Only the four shared instances exist.
/// </summary>
internal sealed class RequestKindFeature
{
    private RequestKindFeature(RequestKind kind, bool fallback)
    {
        Kind = kind;
        Fallback = fallback;
    }

    public static RequestKindFeature Read { get; } = new(RequestKind.Read, fallback: false);

    public static RequestKindFeature Write { get; } = new(RequestKind.Write, fallback: false);

    private static RequestKindFeature ReadFallback { get; } = new(RequestKind.Read, fallback: true);

    private static RequestKindFeature WriteFallback { get; } = new(RequestKind.Write, fallback: true);

    public RequestKind Kind { get; }

    /// <summary>Whether no instance was eligible for the request's kind, so routing offered the fallback set.</summary>
    public bool Fallback { get; }

    public static RequestKindFeature For(RequestKind kind, bool fallback = false) => (kind, fallback) switch
    {
        (RequestKind.Read, false) => Read,
        (RequestKind.Read, true) => ReadFallback,
        (_, false) => Write,
        _ => WriteFallback,
    };
}
