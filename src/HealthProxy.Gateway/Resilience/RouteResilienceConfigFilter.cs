using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Validates each route's resilience metadata (<c>HealthProxy.PassiveHealth</c>, <c>HealthProxy.Retries</c>,
/// <c>HealthProxy.ActivityTimeout</c>) when the configuration loads, naming the key of each bad value.
/// </summary>
internal sealed class RouteResilienceConfigFilter : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        _ = RouteResilience.Parse(route.Metadata, $"ReverseProxy:Routes:{route.RouteId}:Metadata", problems);
        return problems.Count == 0 ? ValueTask.FromResult(route) : throw new GatewayConfigurationException(problems);
    }
}
