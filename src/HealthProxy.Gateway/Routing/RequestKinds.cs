using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Routing;

/// <summary>Decides whether a request is a read or a write.</summary>
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
    public static RequestKind Classify(string method, RouteConfig route)
    {
        if (route.Metadata is { } metadata
            && metadata.TryGetValue(Configuration.HealthProxyMetadata.RequestKind, out var declared)
            && TryParse(declared, out var kind))
        {
            return kind;
        }

        return HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method)
            ? RequestKind.Read
            : RequestKind.Write;
    }
}
