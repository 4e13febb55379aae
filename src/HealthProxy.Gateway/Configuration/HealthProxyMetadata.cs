namespace HealthProxy.Gateway.Configuration;

/// <summary>The keys HealthProxy reads from YARP's route and cluster <c>Metadata</c>.</summary>
public static class HealthProxyMetadata
{
    /// <summary>
    /// Route metadata overriding the request kind the HTTP method implies: <c>Read</c> or <c>Write</c>
    /// (e.g. a POST search endpoint declared <c>Read</c>).
    /// </summary>
    public const string RequestKind = "HealthProxy.RequestKind";
}
