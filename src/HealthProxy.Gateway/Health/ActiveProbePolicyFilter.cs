using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// Rejects active health check settings the gateway's probes would not honour (see <see cref="ActiveProbePolicy"/>):
/// at startup the gateway stops with the message; on a reload YARP keeps serving the last good configuration.
/// </summary>
internal sealed class ActiveProbePolicyFilter : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var problems = ActiveProbePolicy.Problems(cluster, $"ReverseProxy:Clusters:{cluster.ClusterId}").ToList();
        return problems.Count == 0 ? ValueTask.FromResult(cluster) : throw new GatewayConfigurationException(problems);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => ValueTask.FromResult(route);
}
