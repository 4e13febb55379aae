using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests;

/// <summary>YARP cluster states as YARP's config manager hands them to cluster change listeners.</summary>
internal static class TestClusters
{
    private static readonly HttpMessageInvoker Invoker = new(new SocketsHttpHandler());

    public static ClusterState Create(string clusterId, IEnumerable<string> destinations, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var cluster = new ClusterState(clusterId, new ClusterModel(new ClusterConfig { ClusterId = clusterId, Metadata = metadata }, Invoker));
        foreach (var id in destinations)
        {
            cluster.Destinations.TryAdd(id, new DestinationState(id));
        }

        return cluster;
    }

    /// <summary>The same cluster with exactly <paramref name="destinations"/> (existing destination objects kept, as YARP does).</summary>
    public static ClusterState WithDestinations(ClusterState cluster, IEnumerable<string> destinations)
    {
        var wanted = destinations.ToHashSet(StringComparer.Ordinal);
        foreach (var id in cluster.Destinations.Keys.Where(id => !wanted.Contains(id)).ToList())
        {
            cluster.Destinations.TryRemove(id, out _);
        }

        foreach (var id in wanted)
        {
            cluster.Destinations.TryAdd(id, new DestinationState(id));
        }

        return cluster;
    }
}
