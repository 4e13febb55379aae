using System.Collections.Concurrent;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The read side of routing: one immutable <see cref="ClusterRouting"/> per cluster, swapped whole
/// when that cluster changes.
/// </summary>
/// <remarks>
/// Threading: writers (the state store, under its own lock) replace a cluster's entry; readers (every
/// proxied request) do one lock-free dictionary lookup and use the object they got, which never changes.
/// One cluster's change never rebuilds another's.
/// </remarks>
internal sealed class RoutingTable
{
    private readonly ConcurrentDictionary<string, ClusterRouting> _clusters = new(StringComparer.Ordinal);

    /// <summary>Raised after any cluster's routing was replaced or removed (on the writer's thread).</summary>
    public event Action<string>? Changed;

    public bool TryGet(string clusterId, out ClusterRouting routing) => _clusters.TryGetValue(clusterId, out routing!);

    public IEnumerable<ClusterRouting> Clusters => _clusters.Values;

    public void Set(ClusterRouting routing)
    {
        _clusters[routing.ClusterId] = routing;
        Changed?.Invoke(routing.ClusterId);
    }

    public void Remove(string clusterId)
    {
        if (_clusters.TryRemove(clusterId, out _))
        {
            Changed?.Invoke(clusterId);
        }
    }
}
