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
    /// Cluster metadata naming the cluster's category for the aggregated views (e.g. <c>payments</c>);
    /// wins over a Consul service's <c>Service.Meta["category"]</c>. Default: <c>uncategorized</c>.
    /// </summary>
    public const string Category = "HealthProxy.Category";

    /// <summary>
    /// Cluster metadata listing the clusters this one depends on, comma-separated cluster ids
    /// (e.g. <c>payment,inventory</c>); added to the dependencies its instances publish.
    /// </summary>
    public const string DependsOn = "HealthProxy.DependsOn";
}
