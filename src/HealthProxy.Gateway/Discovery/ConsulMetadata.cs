using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// Cluster <c>Metadata</c> keys that take a cluster's destinations from Consul. Only
/// <see cref="Service"/> is required; a cluster without it keeps its static destinations.
/// </summary>
public static class ConsulMetadata
{
    /// <summary>The Consul service whose instances are this cluster's destinations.</summary>
    public const string Service = "consul.service";

    /// <summary>Only instances with these tags (comma-separated, all must match).</summary>
    public const string Tag = "consul.tag";

    /// <summary>A Consul filter expression, e.g. <c>Service.Meta.version == "2"</c>.</summary>
    public const string Filter = "consul.filter";

    /// <summary>The datacenter to ask, when not the agent's own.</summary>
    public const string Datacenter = "consul.datacenter";

    /// <summary>The scheme of destination addresses: <c>http</c> (default) or <c>https</c>.</summary>
    public const string Scheme = "consul.scheme";

    internal static ServiceSelection? Read(ClusterConfig cluster)
    {
        var metadata = cluster.Metadata;
        if (metadata is null || !metadata.TryGetValue(Service, out var service) || string.IsNullOrWhiteSpace(service))
        {
            return null;
        }

        var tags = metadata.TryGetValue(Tag, out var tagText) && !string.IsNullOrWhiteSpace(tagText)
            ? string.Join(',', tagText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal))
            : string.Empty;
        return new ServiceSelection(
            service.Trim(),
            tags,
            metadata.TryGetValue(Filter, out var filter) ? filter : null,
            metadata.TryGetValue(Datacenter, out var datacenter) ? datacenter : null,
            metadata.TryGetValue(Scheme, out var scheme) ? scheme : null);
    }
}
