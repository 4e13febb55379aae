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

    /// <summary>A cluster whose destinations state their failover tier (<c>HealthProxy.Priority</c>).</summary>
    public static ClusterState CreateTiered(string clusterId, IEnumerable<(string Id, int Priority)> destinations, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var cluster = new ClusterState(clusterId, new ClusterModel(new ClusterConfig { ClusterId = clusterId, Metadata = metadata }, Invoker));
        foreach (var (id, priority) in destinations)
        {
            cluster.Destinations.TryAdd(id, Tiered(id, priority));
        }

        return cluster;
    }

    /// <summary>A destination in failover tier <paramref name="priority"/>.</summary>
    public static DestinationState Tiered(string id, int priority) =>
        new(id, new DestinationModel(new DestinationConfig
        {
            Address = "http://backend.invalid",
            Metadata = new Dictionary<string, string> { ["HealthProxy.Priority"] = priority.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        }));

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
