using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.GrpcRouting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// Checks what YARP does not: that routes name clusters that exist, that HealthProxy's metadata has
/// known values (the probe protocol, a route's gRPC descriptor set, which must load), that addresses are absolute
/// http(s) URIs and that probe timings are positive and at most an hour.
/// </summary>
/// <remarks>
/// A filter runs on every load. At startup a problem stops the gateway; on a reload YARP logs it and
/// keeps serving the last good configuration, so a bad edit loses nothing.
/// </remarks>
internal sealed class GatewayConfigFilter(IConfiguration configuration, IHostEnvironment environment) : IProxyConfigFilter
{
    private const string Root = "ReverseProxy";

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        var prefix = $"{Root}:Clusters:{cluster.ClusterId}";
        foreach (var (id, destination) in cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
        {
            CheckAddress(problems, $"{prefix}:Destinations:{id}:Address", destination.Address, required: true);
            CheckAddress(problems, $"{prefix}:Destinations:{id}:Health", destination.Health, required: false);
        }

        if (cluster.HealthCheck?.Active is { } active)
        {
            CheckProbeTiming(problems, $"{prefix}:HealthCheck:Active:Interval", active.Interval);
            CheckProbeTiming(problems, $"{prefix}:HealthCheck:Active:Timeout", active.Timeout);
        }

        if (cluster.Metadata?.TryGetValue(HealthProxyMetadata.Critical, out var critical) == true && !bool.TryParse(critical, out _))
        {
            problems.Add($"{prefix}:Metadata:{HealthProxyMetadata.Critical} must be 'true' or 'false' (got '{critical}').");
        }

        WeightSettings.Parse(cluster.Metadata, $"{prefix}:Metadata", problems);
        GrpcProbeSettings.Check(cluster.Metadata, $"{prefix}:Metadata", problems);
        foreach (var (id, destination) in cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
        {
            WeightSettings.DestinationWeight(destination.Metadata, HealthProxyMetadata.Weight, $"{prefix}:Destinations:{id}:Metadata", problems);
            WeightSettings.DestinationWeight(destination.Metadata, HealthProxyMetadata.DegradedWeight, $"{prefix}:Destinations:{id}:Metadata", problems);
            WeightSettings.DestinationPriority(destination.Metadata, $"{prefix}:Destinations:{id}:Metadata", problems);
        }

        if (problems.Count > 0)
        {
            throw new GatewayConfigurationException(problems);
        }

        // A cluster that names no policy gets the health-weighted one; one that names a YARP policy keeps it, on the eligible set.
        return ValueTask.FromResult(cluster.LoadBalancingPolicy is null ? cluster with { LoadBalancingPolicy = HealthWeightedPolicy.PolicyName } : cluster);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        var problems = new List<string>();
        var prefix = $"{Root}:Routes:{route.RouteId}";
        // A cluster that is configured but was refused (its own problems already reported) is not also "not configured".
        if (route.ClusterId is { } clusterId && cluster is null && !configuration.GetSection($"{Root}:Clusters:{clusterId}").Exists())
        {
            problems.Add($"{prefix}:ClusterId names cluster '{clusterId}', which is not configured under {Root}:Clusters.");
        }

        if (route.Metadata?.TryGetValue(HealthProxyMetadata.RequestKind, out var kind) == true && !RequestKinds.TryParse(kind, out _))
        {
            problems.Add($"{prefix}:Metadata:{HealthProxyMetadata.RequestKind} must be 'Read' or 'Write' (got '{kind}').");
        }

        _ = GrpcRouteMethods.Parse(route.Metadata, path => GrpcCalls.ResolvePath(environment.ContentRootPath, path), $"{prefix}:Metadata", problems);

        return problems.Count == 0 ? ValueTask.FromResult(route) : throw new GatewayConfigurationException(problems);
    }

    private static void CheckAddress(List<string> problems, string key, string? address, bool required)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            if (required)
            {
                problems.Add($"{key} is required.");
            }

            return;
        }

        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
        {
            problems.Add($"{key} must be an absolute http:// or https:// address (got '{address}').");
        }
    }

    private static void CheckProbeTiming(List<string> problems, string key, TimeSpan? value)
    {
        if (value is { } span && (span <= TimeSpan.Zero || span > ProbeOptions.MaxInterval))
        {
            problems.Add($"{key} must be positive and at most {ProbeOptions.MaxInterval} (got {span}).");
        }
    }
}
