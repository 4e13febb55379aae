using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A request's retries so far: the destinations tried, and where the next retry goes, chosen once by whoever
/// decides the request will be retried, so that a response withheld for a retry always has one. Set as a request
/// feature (allocated on the failure path only).
/// </summary>
internal sealed class RetryTarget
{
    private readonly List<DestinationState> _tried = new(2);

    public RetryTarget(DestinationState first) => _tried.Add(first);

    /// <summary>The destinations tried, in order.</summary>
    public IReadOnlyList<DestinationState> Tried => _tried;

    /// <summary>Where the next retry goes; null until a retry is decided.</summary>
    public DestinationState? Destination { get; set; }

    /// <summary>Attempts made so far.</summary>
    public int Attempts => _tried.Count;

    /// <summary>The next attempt goes to <paramref name="destination"/>.</summary>
    public void Tries(DestinationState destination)
    {
        _tried.Add(destination);
        Destination = null;
    }

    /// <summary>Another destination for a retry than <paramref name="tried"/> (see the list overload).</summary>
    public static DestinationState? Pick(RoutingTable table, ClusterResilience cluster, RequestKind kind, DestinationState tried) =>
        Pick(table, cluster, kind, [tried]);

    /// <summary>
    /// Another destination for a retry: eligible for the kind in the failover tier serving it (or any of the local
    /// tier's, when none is), not ejected, none of those tried; null when there is none. A retry never crosses tiers.
    /// </summary>
    public static DestinationState? Pick(RoutingTable table, ClusterResilience cluster, RequestKind kind, IReadOnlyList<DestinationState> tried)
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
            if (!WasTried(candidate, tried) && !(cluster.TryGet(candidate.DestinationId, out var health) && health.IsEjected))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool WasTried(DestinationState candidate, IReadOnlyList<DestinationState> tried)
    {
        for (var i = 0; i < tried.Count; i++)
        {
            if (ReferenceEquals(candidate, tried[i]) || candidate.DestinationId == tried[i].DestinationId)
            {
                return true;
            }
        }

        return false;
    }
}
