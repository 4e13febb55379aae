using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A cluster model carrying another activity timeout, which YARP's forwarder reads its request config from: made
/// once per source model and kept until the cluster's model changes. Used for a route's own timeout and for the
/// failover tiers' timeout.
/// </summary>
internal sealed class TimeoutClusterModel(TimeSpan timeout)
{
    private volatile AdjustedCluster? _adjusted;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary><paramref name="cluster"/>'s copy with <see cref="Timeout"/> as its activity timeout.</summary>
    public ClusterModel For(ClusterModel cluster)
    {
        var adjusted = _adjusted;
        if (adjusted is not null && ReferenceEquals(adjusted.Source, cluster))
        {
            return adjusted.Model;
        }

        var config = cluster.Config;
        var request = (config.HttpRequest ?? ForwarderRequestConfig.Empty) with { ActivityTimeout = Timeout };
        adjusted = new AdjustedCluster(cluster, new ClusterModel(config with { HttpRequest = request }, cluster.HttpClient));
        _adjusted = adjusted;
        return adjusted.Model;
    }

    private sealed record AdjustedCluster(ClusterModel Source, ClusterModel Model);
}
