using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A cluster's activity timeout for its failover tiers (<c>HealthProxy.FailoverActivityTimeout</c>): a remote
/// datacenter is further away than the local one, so its instances may take longer to answer than the cluster's own
/// <c>HttpRequest:ActivityTimeout</c> allows. Requests to tier 0 keep the cluster's timeout; a route's own
/// <c>HealthProxy.ActivityTimeout</c> wins over both.
/// </summary>
internal sealed class FailoverTimeout
{
    private static readonly TimeSpan Min = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromDays(1);

    private readonly TimeoutClusterModel _model;

    private FailoverTimeout(TimeSpan timeout) => _model = new TimeoutClusterModel(timeout);

    /// <summary>The timeout for failover tiers, or null when the cluster's own applies to every tier.</summary>
    public static FailoverTimeout? Parse(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, ICollection<string> problems)
    {
        if (metadata is null || !metadata.TryGetValue(HealthProxyMetadata.FailoverActivityTimeout, out var text))
        {
            return null;
        }

        if (TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var timeout) && timeout >= Min && timeout <= Max)
        {
            return new FailoverTimeout(timeout);
        }

        problems.Add($"{keyPrefix}:{HealthProxyMetadata.FailoverActivityTimeout} must be a time span between 00:00:01 and 1.00:00:00 (got '{text}').");
        return null;
    }

    public TimeSpan Timeout => _model.Timeout;

    /// <summary>
    /// The cluster model to forward to <paramref name="destination"/> with: <paramref name="cluster"/> itself for a
    /// tier-0 destination, else its copy carrying the failover timeout.
    /// </summary>
    public ClusterModel ClusterFor(ClusterModel cluster, DestinationState destination) =>
        IsFailoverTier(destination) ? _model.For(cluster) : cluster;

    private static bool IsFailoverTier(DestinationState destination) =>
        destination.Model?.Config.Metadata is { } metadata
        && metadata.TryGetValue(HealthProxyMetadata.Priority, out var text)
        && int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var priority)
        && priority > 0;
}
