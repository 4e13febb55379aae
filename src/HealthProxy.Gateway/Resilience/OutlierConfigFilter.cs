using Microsoft.Extensions.Options;
using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Validates each cluster's outlier detection overrides (<c>Metadata:HealthProxy.OutlierDetection.*</c>) on
/// top of the <c>HealthProxy:OutlierDetection</c> defaults, and its <c>HttpRequest:ActivityTimeout</c>.
/// </summary>
internal sealed class OutlierConfigFilter(IOptions<OutlierDetectionOptions> defaults) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        var prefix = $"ReverseProxy:Clusters:{cluster.ClusterId}";
        var options = defaults.Value.WithOverrides(cluster.Metadata, $"{prefix}:Metadata", problems);
        if (problems.Count == 0 && cluster.Metadata?.Keys.Any(k => k.StartsWith(OutlierDetectionOptions.MetadataPrefix, StringComparison.Ordinal)) == true)
        {
            problems.AddRange(options.Validate($"{prefix}:Metadata:{OutlierDetectionOptions.MetadataPrefix}"));
        }

        FailoverTimeout.Parse(cluster.Metadata, $"{prefix}:Metadata", problems);
        if (cluster.HttpRequest?.ActivityTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            problems.Add($"{prefix}:HttpRequest:ActivityTimeout must be positive (got {timeout}).");
        }

        return problems.Count == 0 ? ValueTask.FromResult(cluster) : throw new GatewayConfigurationException(problems);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => ValueTask.FromResult(route);
}
