using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>The page, script and style, embedded in the gateway assembly and read once.</summary>
internal sealed class DashboardAssets
{
    public const string Page = "dashboard.html";
    public const string Script = "dashboard.js";
    public const string Style = "dashboard.css";

    private const string ResourcePrefix = "HealthProxy.Gateway.Dashboard.Assets.";

    private readonly FrozenDictionary<string, (byte[] Content, string ContentType)> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        _assets = new Dictionary<string, (byte[], string)>
        {
            [Page] = (Read(Page), "text/html; charset=utf-8"),
            [Script] = (Read(Script), "text/javascript; charset=utf-8"),
            [Style] = (Read(Style), "text/css; charset=utf-8"),
        }.ToFrozenDictionary(StringComparer.Ordinal);

        byte[] Read(string name)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
                ?? throw new InvalidOperationException($"The dashboard asset {name} is not embedded in {assembly.GetName().Name}.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    public Task WriteAsync(HttpContext context, string name, string contentSecurityPolicy)
    {
        var (content, contentType) = _assets[name];
        var response = context.Response;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
        return response.Body.WriteAsync(content, context.RequestAborted).AsTask();
    }
}
