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

    /// <summary>
    /// Failover datacenters, comma-separated, in order: each is watched like the local one (<c>?dc=</c>), and its
    /// instances form failover tier 1, 2, ... of the cluster (see <see cref="Configuration.HealthProxyMetadata.Priority"/>).
    /// </summary>
    public const string FailoverDatacenters = "consul.failover.datacenters";

    /// <summary>The scheme of destination addresses: <c>http</c> (default) or <c>https</c>.</summary>
    public const string Scheme = "consul.scheme";

    /// <summary>
    /// The selections of a Consul cluster's tiers: the local one, then one per failover datacenter, in order; a list
    /// that repeats a datacenter or names the local one is a problem naming the key.
    /// </summary>
    internal static IReadOnlyList<ServiceSelection> Tiers(ClusterConfig cluster, ServiceSelection local, List<string> problems)
    {
        if (cluster.Metadata is null || !cluster.Metadata.TryGetValue(FailoverDatacenters, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return [local];
        }

        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var key = $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata:{FailoverDatacenters}";
        if (names.Length > Routing.WeightSettings.MaxPriority)
        {
            problems.Add($"{key} must list at most {Routing.WeightSettings.MaxPriority} datacenters (got {names.Length}).");
            return [local];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (local.Datacenter is { Length: > 0 } own)
        {
            seen.Add(own);
        }

        var tiers = new List<ServiceSelection>(names.Length + 1) { local };
        foreach (var name in names)
        {
            if (!seen.Add(name))
            {
                problems.Add($"{key} must name each datacenter once and not the cluster's own {Datacenter} (got '{text}').");
                return [local];
            }

            tiers.Add(local with { Datacenter = name });
        }

        return tiers;
    }

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
