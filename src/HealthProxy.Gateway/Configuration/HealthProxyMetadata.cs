namespace HealthProxy.Gateway.Configuration;

/// <summary>The keys HealthProxy reads from YARP's route and cluster <c>Metadata</c>.</summary>
public static class HealthProxyMetadata
{
    /// <summary>
    /// Route metadata overriding the request kind the HTTP method implies: <c>Read</c> or <c>Write</c>
    /// (e.g. a POST search endpoint declared <c>Read</c>).
    /// </summary>
    public const string RequestKind = "HealthProxy.RequestKind";

    /// <summary>Cluster metadata: the category its service belongs to (a <c>category</c> label on its health gauge).</summary>
    public const string Category = "HealthProxy.Category";

    /// <summary>Cluster metadata: <c>true</c> when the product cannot work without it (a <c>critical="true"</c> label, which alerts page on).</summary>
    public const string Critical = "HealthProxy.Critical";
}
