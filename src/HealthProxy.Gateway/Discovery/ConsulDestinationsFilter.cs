using HealthProxy.Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// Fills the destinations of clusters whose metadata names a Consul service from that service's
/// latest good snapshot (static destinations, if any, serve until the first answer). While the
/// snapshot is stale and the cluster configures no probing, it turns the gateway's own probes on. A cluster with
/// <c>consul.failover.datacenters</c> gets each listed datacenter's instances too, as failover tiers.
/// </summary>
internal sealed class ConsulDestinationsFilter(ConsulDiscovery discovery, IOptions<DiscoveryOptions> options) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (ConsulMetadata.Read(cluster) is not { } selection)
        {
            // A cluster that no longer names a Consul service lets go of its watch.
            discovery.Unbind(cluster.ClusterId);
            return ValueTask.FromResult(cluster);
        }

        if (selection.Scheme is { } scheme && scheme != Uri.UriSchemeHttp && scheme != Uri.UriSchemeHttps)
        {
            throw new GatewayConfigurationException($"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata:{ConsulMetadata.Scheme} must be 'http' or 'https' (got '{scheme}').");
        }

        var problems = new List<string>();
        var tiers = ConsulMetadata.Tiers(cluster, selection, problems);
        if (problems.Count > 0)
        {
            throw new GatewayConfigurationException(problems);
        }

        ServiceView view;
        try
        {
            view = discovery.Bind(cluster.ClusterId, tiers);
        }
        catch (OptionsValidationException ex)
        {
            throw new GatewayConfigurationException([.. ex.Failures]);
        }

        var result = view.Destinations is null ? cluster : cluster with { Destinations = view.Destinations };
        if (view.Stale && cluster.HealthCheck?.Active?.Enabled != true)
        {
            var fallback = options.Value;
            result = result with
            {
                HealthCheck = (cluster.HealthCheck ?? new HealthCheckConfig()) with
                {
                    Active = new ActiveHealthCheckConfig
                    {
                        Enabled = true,
                        Interval = fallback.FallbackProbeInterval,
                        Timeout = fallback.FallbackProbeInterval,
                        Path = fallback.FallbackProbePath,
                    },
                },
            };
        }

        return ValueTask.FromResult(result);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => ValueTask.FromResult(route);
}
