using HealthProxy.Gateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// The gateway's load-balancing policy (<c>HealthWeighted</c>, the default for clusters that name none): weighted power
/// of two choices. It draws two instances in proportion to their effective weights and sends the request to the one
/// with fewer requests in flight per unit of weight (the first drawn on a tie), skipping a degraded instance at the
/// cluster's in-flight cap.
/// </summary>
/// <remarks>
/// <para>
/// Drawing by weight makes the shares follow the weights when instances are idle; comparing in-flight per weight
/// keeps a slow instance from piling up requests, and at steady load gives each instance in-flight requests in
/// proportion to its weight. Unlike YARP's PowerOfTwoChoices, a degraded instance with few requests in flight does
/// not win for that reason: it is seldom drawn.
/// </para>
/// <para>
/// The per-request work is a type test (routing hands YARP its <see cref="WeightedSet"/> as the available
/// destinations), two O(1) draws (a pass over the set while an instance is in slow start) and field reads; nothing is
/// allocated and nothing is locked. When another step narrowed the destinations to a list routing did not build,
/// every one of them counts as weight 1.
/// </para>
/// </remarks>
internal sealed class HealthWeightedPolicy(TimeProvider timeProvider, GatewayMetrics metrics) : ILoadBalancingPolicy
{
    /// <summary>The name clusters give as <c>LoadBalancingPolicy</c>.</summary>
    public const string PolicyName = "HealthWeighted";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations is not WeightedSet set)
        {
            return availableDestinations.Count switch
            {
                0 => null,
                1 => availableDestinations[0],
                _ => Unweighted(availableDestinations),
            };
        }

        if (set.Count == 0)
        {
            return null;
        }

        var now = set.RampEnds == DateTimeOffset.MinValue ? default : timeProvider.GetUtcNow();
        var ramping = now != default && now < set.RampEnds;
        var picked = Pick(set, set.Settings, now, ramping, set.Cap);
        if (picked >= 0)
        {
            return set.Destinations[picked];
        }

        // Every instance that may take the request is a degraded one at its cap: shed it to the fallback set.
        metrics.DegradedShed(set.ClusterId);
        var fallback = set.ShedTo;
        return fallback is null || fallback.Count == 0 ? null : fallback.Destinations[Pick(fallback, fallback.Settings, now, ramping: false, cap: 0)];
    }

    /// <summary>Picks an index of <paramref name="set"/>, or -1 when every instance is a degraded one at <paramref name="cap"/>.</summary>
    internal static int Pick(WeightedSet set, WeightSettings settings, DateTimeOffset now, bool ramping, int cap)
    {
        if (set.Count == 1)
        {
            return Capped(set, 0, cap) ? -1 : 0;
        }

        var first = Draw(set, settings, now, ramping);
        var second = Draw(set, settings, now, ramping);
        var firstOpen = !Capped(set, first, cap);
        var secondOpen = !Capped(set, second, cap);
        if (firstOpen && secondOpen)
        {
            return Fewer(set, settings, now, ramping, second, first) ? second : first;
        }

        if (firstOpen || secondOpen)
        {
            return firstOpen ? first : second;
        }

        var best = -1;
        for (var i = 0; i < set.Count; i++)
        {
            if (!Capped(set, i, cap) && (best < 0 || Fewer(set, settings, now, ramping, i, best)))
            {
                best = i;
            }
        }

        return best;
    }

    private static bool Capped(WeightedSet set, int index, int cap) =>
        cap > 0 && set.Degraded[index] && set.Destinations[index].ConcurrentRequestCount >= cap;

    /// <summary>Whether <paramref name="a"/> has fewer requests in flight per unit of weight than <paramref name="b"/>.</summary>
    private static bool Fewer(WeightedSet set, WeightSettings settings, DateTimeOffset now, bool ramping, int a, int b)
    {
        var weightA = ramping ? set.WeightAt(a, settings, now) : set.Weights[a];
        var weightB = ramping ? set.WeightAt(b, settings, now) : set.Weights[b];
        return set.Destinations[a].ConcurrentRequestCount * weightB < set.Destinations[b].ConcurrentRequestCount * weightA;
    }

    private static int Draw(WeightedSet set, WeightSettings settings, DateTimeOffset now, bool ramping)
    {
        if (!ramping)
        {
            var column = Random.Shared.Next(set.Count);
            return Random.Shared.NextDouble() < set.Probability[column] ? column : set.Alias[column];
        }

        var total = 0d;
        for (var i = 0; i < set.Count; i++)
        {
            total += set.WeightAt(i, settings, now);
        }

        var remaining = Random.Shared.NextDouble() * total;
        for (var i = 0; i < set.Count; i++)
        {
            remaining -= set.WeightAt(i, settings, now);
            if (remaining < 0)
            {
                return i;
            }
        }

        return set.Count - 1;
    }

    private static DestinationState Unweighted(IReadOnlyList<DestinationState> destinations)
    {
        var first = destinations[Random.Shared.Next(destinations.Count)];
        var second = destinations[Random.Shared.Next(destinations.Count)];
        return second.ConcurrentRequestCount < first.ConcurrentRequestCount ? second : first;
    }
}
