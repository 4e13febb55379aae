namespace HealthProxy.Gateway.Configuration;

/// <summary>The keys HealthProxy reads from YARP's route and cluster <c>Metadata</c>.</summary>
public static class HealthProxyMetadata
{
    /// <summary>
    /// Route metadata overriding the request kind the HTTP method implies: <c>Read</c> or <c>Write</c>
    /// (e.g. a POST search endpoint declared <c>Read</c>).
    /// </summary>
    public const string RequestKind = "HealthProxy.RequestKind";

    /// <summary>
    /// Cluster metadata naming the cluster's category for the aggregated views and the <c>category</c> label
    /// of its health gauge (e.g. <c>payments</c>); wins over a Consul service's <c>Service.Meta["category"]</c>.
    /// Default: <c>uncategorized</c>.
    /// </summary>
    public const string Category = "HealthProxy.Category";

    /// <summary>Cluster metadata: <c>true</c> when the product cannot work without it (a <c>critical="true"</c> label, which alerts page on).</summary>
    public const string Critical = "HealthProxy.Critical";

    /// <summary>
    /// Cluster metadata listing the clusters this one depends on, comma-separated cluster ids
    /// (e.g. <c>payment,inventory</c>); added to the dependencies its instances publish.
    /// </summary>
    public const string DependsOn = "HealthProxy.DependsOn";
}
