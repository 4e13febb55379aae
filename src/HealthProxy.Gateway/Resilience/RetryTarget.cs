using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Where a retry goes: chosen once, by whoever decides the request will be retried, so that a response withheld
/// for a retry always has one. Set as a request feature (allocated on the failure path only).
/// </summary>
internal sealed class RetryTarget(DestinationState destination)
{
    public DestinationState Destination { get; } = destination;

    /// <summary>
    /// Another destination for a retry: eligible for the kind in the failover tier serving it (or any of the local
    /// tier's, when none is), not ejected, not the one tried; null when there is none. A retry never crosses tiers.
    /// </summary>
    public static DestinationState? Pick(RoutingTable table, ClusterResilience cluster, RequestKind kind, DestinationState tried)
    {
        if (!table.TryGet(cluster.ClusterId, out var routing))
        {
            return null;
        }

        var candidates = routing.Eligible(kind);
        if (candidates.Count == 0)
        {
            candidates = routing.LocalSet;
        }

        var count = candidates.Count;
        var start = count > 1 ? Random.Shared.Next(count) : 0;
        for (var i = 0; i < count; i++)
        {
            var candidate = candidates[(start + i) % count];
            if (!ReferenceEquals(candidate, tried)
                && candidate.DestinationId != tried.DestinationId
                && !(cluster.TryGet(candidate.DestinationId, out var health) && health.IsEjected))
            {
                return candidate;
            }
        }

        return null;
    }
}
