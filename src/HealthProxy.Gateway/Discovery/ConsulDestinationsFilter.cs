using HealthProxy.Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// Fills the destinations of clusters whose metadata names a Consul service from that service's
/// latest good snapshot (static destinations, if any, serve until the first answer). While the
/// snapshot is stale and the cluster configures no probing, it turns the gateway's own probes on.
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

        ServiceView view;
        try
        {
            view = discovery.Bind(cluster.ClusterId, selection);
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
