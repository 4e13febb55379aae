using System.Buffers;
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

        if (!ramping)
        {
            return Choose(set, set.Weights, cap, Draw(set), Draw(set));
        }

        // Slow start: this moment's weights, computed once for both draws and the comparison.
        const int StackLimit = 128;
        double[]? rented = null;
        var weights = set.Count <= StackLimit ? stackalloc double[set.Count] : (rented = ArrayPool<double>.Shared.Rent(set.Count)).AsSpan(0, set.Count);
        var total = 0d;
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = set.WeightAt(i, settings, now);
            total += weights[i];
        }

        var picked = Choose(set, weights, cap, Draw(weights, total), Draw(weights, total));
        if (rented is not null)
        {
            ArrayPool<double>.Shared.Return(rented);
        }

        return picked;
    }

    private static int Choose(WeightedSet set, ReadOnlySpan<double> weights, int cap, int first, int second)
    {
        var firstOpen = !Capped(set, first, cap);
        var secondOpen = !Capped(set, second, cap);
        if (firstOpen && secondOpen)
        {
            return Fewer(set, weights, second, first) ? second : first;
        }

        if (firstOpen || secondOpen)
        {
            return firstOpen ? first : second;
        }

        var best = -1;
        for (var i = 0; i < set.Count; i++)
        {
            if (!Capped(set, i, cap) && (best < 0 || Fewer(set, weights, i, best)))
            {
                best = i;
            }
        }

        return best;
    }

    private static bool Capped(WeightedSet set, int index, int cap) =>
        cap > 0 && set.Degraded[index] && set.Destinations[index].ConcurrentRequestCount >= cap;

    /// <summary>Whether <paramref name="a"/> has fewer requests in flight per unit of weight than <paramref name="b"/>.</summary>
    private static bool Fewer(WeightedSet set, ReadOnlySpan<double> weights, int a, int b) =>
        set.Destinations[a].ConcurrentRequestCount * weights[b] < set.Destinations[b].ConcurrentRequestCount * weights[a];

    /// <summary>A draw in proportion to the snapshot's weights, by its alias tables.</summary>
    private static int Draw(WeightedSet set)
    {
        // One random number serves both halves of the draw: the low 32 bits pick the column, the high 31 the coin.
        var random = (ulong)Random.Shared.NextInt64();
        var column = (int)(((random & uint.MaxValue) * (ulong)set.Count) >> 32);
        var coin = (random >> 32) * (1.0 / (1UL << 31));
        return coin < set.Probability[column] ? column : set.Alias[column];
    }

    /// <summary>A draw in proportion to <paramref name="weights"/>, by a pass over them.</summary>
    private static int Draw(ReadOnlySpan<double> weights, double total)
    {
        var remaining = Random.Shared.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            remaining -= weights[i];
            if (remaining < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static DestinationState Unweighted(IReadOnlyList<DestinationState> destinations)
    {
        var first = destinations[Random.Shared.Next(destinations.Count)];
        var second = destinations[Random.Shared.Next(destinations.Count)];
        return second.ConcurrentRequestCount < first.ConcurrentRequestCount ? second : first;
    }
}
