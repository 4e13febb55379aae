using System.Collections.Frozen;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The precomputed, immutable routing answer for one cluster: which destinations take reads, which take
/// writes, and all of them for the fallback. Rebuilt when a state changes; a request only reads it.
/// </summary>
internal sealed class ClusterRouting
{
    private ClusterRouting(
        string clusterId,
        DestinationState[] all,
        DestinationState[] reads,
        DestinationState[] writes,
        FrozenDictionary<string, InstanceHealth> instances,
        FallbackEpisode? readFallback,
        FallbackEpisode? writeFallback,
        IReadOnlyDictionary<string, string>? metadata)
    {
        ClusterId = clusterId;
        All = all;
        Reads = reads;
        Writes = writes;
        Instances = instances;
        ReadFallback = readFallback;
        WriteFallback = writeFallback;
        Metadata = metadata;
    }

    public string ClusterId { get; }

    public IReadOnlyList<DestinationState> All { get; }

    public IReadOnlyList<DestinationState> Reads { get; }

    public IReadOnlyList<DestinationState> Writes { get; }

    /// <summary>Each destination's health, by destination id.</summary>
    public FrozenDictionary<string, InstanceHealth> Instances { get; }

    /// <summary>The current no-eligible-reads episode, or null while reads have somewhere to go.</summary>
    public FallbackEpisode? ReadFallback { get; }

    /// <summary>The current no-eligible-writes episode, or null while writes have somewhere to go.</summary>
    public FallbackEpisode? WriteFallback { get; }

    /// <summary>The cluster's YARP metadata as configured (category, criticality, dependencies), or null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>Instances that take writes: the healthy ones (unjudged ones count as healthy).</summary>
    public int Healthy => Writes.Count;

    /// <summary>Instances that take reads, the healthy ones included.</summary>
    public int ReadEligible => Reads.Count;

    public IReadOnlyList<DestinationState> Eligible(RequestKind kind) => kind == RequestKind.Read ? Reads : Writes;

    public FallbackEpisode? Fallback(RequestKind kind) => kind == RequestKind.Read ? ReadFallback : WriteFallback;

    /// <summary>
    /// Builds the routing for <paramref name="destinations"/> (ordered by id), keeping the fallback
    /// episodes of <paramref name="previous"/> that are still going on. <paramref name="metadata"/> is the
    /// cluster's configured metadata, kept by reference (YARP's config objects are immutable).
    /// </summary>
    public static ClusterRouting Build(
        string clusterId,
        IReadOnlyList<DestinationState> destinations,
        IReadOnlyDictionary<string, InstanceHealth> health,
        ClusterRouting? previous,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var all = new DestinationState[destinations.Count];
        var reads = new List<DestinationState>(destinations.Count);
        var writes = new List<DestinationState>(destinations.Count);
        for (var i = 0; i < destinations.Count; i++)
        {
            var destination = destinations[i];
            all[i] = destination;
            var state = health.TryGetValue(destination.DestinationId, out var instance) ? instance.RoutingState : HealthState.Healthy;
            if (state.Accepts(RequestKind.Read))
            {
                reads.Add(destination);
            }

            if (state.Accepts(RequestKind.Write))
            {
                writes.Add(destination);
            }
        }

        return new ClusterRouting(
            clusterId,
            all,
            [.. reads],
            [.. writes],
            health.ToFrozenDictionary(StringComparer.Ordinal),
            reads.Count > 0 ? null : previous?.ReadFallback ?? new FallbackEpisode(),
            writes.Count > 0 ? null : previous?.WriteFallback ?? new FallbackEpisode(),
            metadata);
    }
}
