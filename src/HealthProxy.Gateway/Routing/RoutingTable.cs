using System.Collections.Concurrent;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The read side of routing: one immutable <see cref="ClusterRouting"/> per cluster, swapped whole
/// when that cluster changes.
/// </summary>
/// <remarks>
/// Threading: the state store is the only writer (under its own lock); readers (every proxied request, scrapes,
/// views) do one lock-free dictionary lookup and use the object they got, which never changes. Who wants to hear
/// of changes subscribes to <see cref="State.InstanceHealthStore.Changed"/>.
/// </remarks>
internal sealed class RoutingTable
{
    private readonly ConcurrentDictionary<string, ClusterRouting> _clusters = new(StringComparer.Ordinal);

    public bool TryGet(string clusterId, out ClusterRouting routing) => _clusters.TryGetValue(clusterId, out routing!);

    public IEnumerable<ClusterRouting> Clusters => _clusters.Values;

    internal void Set(ClusterRouting routing) => _clusters[routing.ClusterId] = routing;

    internal void Remove(string clusterId) => _clusters.TryRemove(clusterId, out _);
}
