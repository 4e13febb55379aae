using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Validates resilience metadata when the configuration loads, naming the key of each bad value: each cluster's
/// retry policy (<c>HealthProxy.RetryOn</c>, <c>HealthProxy.RetriableStatusCodes</c>, <c>HealthProxy.MaxAttempts</c>,
/// <c>HealthProxy.PerTryTimeout</c>) and each route's own keys (<c>HealthProxy.PassiveHealth</c>, <c>HealthProxy.Retries</c>,
/// <c>HealthProxy.ActivityTimeout</c>, <c>HealthProxy.IdempotentWrites</c> and the retry policy keys, judged over its cluster's).
/// </summary>
internal sealed class RouteResilienceConfigFilter : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        _ = RetryPolicy.Default.With(cluster.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", route: false, problems);
        return problems.Count == 0 ? ValueTask.FromResult(cluster) : throw new GatewayConfigurationException(problems);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        var prefix = $"ReverseProxy:Routes:{route.RouteId}:Metadata";
        _ = RouteResilience.Parse(route.Metadata, prefix, problems);

        // Over its cluster's policy, so that a route's conditions are judged with the cluster's codes and the reverse.
        var clusterPolicy = cluster is null
            ? RetryPolicy.Default
            : RetryPolicy.Default.With(cluster.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", route: false, []);
        _ = clusterPolicy.With(route.Metadata, prefix, route: true, problems);

        return problems.Count == 0 ? ValueTask.FromResult(route) : throw new GatewayConfigurationException(problems);
    }
}
