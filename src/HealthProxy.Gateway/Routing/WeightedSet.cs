using System.Collections;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// One immutable set of destinations a request may go to (a cluster's reads, writes, or fallback), with each one's
/// effective weight. Built with the cluster's <see cref="ClusterRouting"/>; <see cref="HealthWeightedPolicy"/> picks from it.
/// </summary>
/// <remarks>
/// <para>
/// The set is itself the list routing hands YARP as the request's available destinations, so the policy finds its
/// weights with a type test instead of a lookup.
/// </para>
/// <para>
/// A draw in proportion to weight is O(1) with Walker's alias tables (<see cref="Probability"/>, <see cref="Alias"/>),
/// built once per snapshot. The weight of an instance in slow start depends on the time, so while
/// <see cref="RampEnds"/> is ahead a draw computes each instance's ramped weight instead (a pass over the set).
/// </para>
/// </remarks>
internal sealed class WeightedSet : IReadOnlyList<DestinationState>
{
    public static WeightedSet Empty { get; } = new(string.Empty, WeightSettings.Default, [], [], [], [], DateTimeOffset.MinValue, cap: 0, shedTo: null);

    public WeightedSet(
        string clusterId,
        WeightSettings settings,
        DestinationState[] destinations,
        double[] weights,
        bool[] degraded,
        DateTimeOffset[] rampStarts,
        DateTimeOffset rampEnds,
        int cap,
        WeightedSet? shedTo)
    {
        ClusterId = clusterId;
        Settings = settings;
        Destinations = destinations;
        Weights = weights;
        Degraded = degraded;
        RampStarts = rampStarts;
        RampEnds = rampEnds;
        Cap = cap;
        ShedTo = shedTo;
        Total = weights.Sum();
        (Probability, Alias) = AliasTables(weights, Total);
    }

    public string ClusterId { get; }

    public WeightSettings Settings { get; }

    /// <summary>Requests in flight at which a degraded member takes no new requests from this set; 0 = no cap.</summary>
    public int Cap { get; }

    /// <summary>Where a request goes when every member is capped (the fallback set), or null.</summary>
    public WeightedSet? ShedTo { get; }

    /// <summary>Alias method: a draw takes index i with <c>Probability[i]</c>, else <c>Alias[i]</c>.</summary>
    public double[] Probability { get; }

    /// <inheritdoc cref="Probability"/>
    public int[] Alias { get; }

    public DestinationState this[int index] => Destinations[index];

    public IEnumerator<DestinationState> GetEnumerator() => ((IEnumerable<DestinationState>)Destinations).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The destinations, in id order; the same array routing hands YARP as the available destinations.</summary>
    public DestinationState[] Destinations { get; }

    /// <summary>Each destination's weight from its base weight and state (before slow start); all positive.</summary>
    public double[] Weights { get; }

    /// <summary>Whether each destination is degraded (subject to the in-flight cap).</summary>
    public bool[] Degraded { get; }

    /// <summary>When each destination became routable, for slow start; <see cref="DateTimeOffset.MinValue"/> = not ramping.</summary>
    public DateTimeOffset[] RampStarts { get; }

    /// <summary>When the last ramp in this set ends; <see cref="DateTimeOffset.MinValue"/> = none.</summary>
    public DateTimeOffset RampEnds { get; }

    public double Total { get; }

    public int Count => Destinations.Length;

    /// <summary>A destination's weight at <paramref name="now"/>, slow start included.</summary>
    public double WeightAt(int index, WeightSettings settings, DateTimeOffset now) =>
        RampStarts[index] == DateTimeOffset.MinValue ? Weights[index] : Weights[index] * settings.RampFactor(now - RampStarts[index]);

    /// <summary>Vose's construction of Walker's alias tables.</summary>
    private static (double[] Probability, int[] Alias) AliasTables(double[] weights, double total)
    {
        var count = weights.Length;
        var probability = new double[count];
        var alias = new int[count];
        if (count == 0 || total <= 0)
        {
            return (probability, alias);
        }

        var scaled = weights.Select(w => w * count / total).ToArray();
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (var i = 0; i < count; i++)
        {
            (scaled[i] < 1 ? small : large).Push(i);
        }

        while (small.Count > 0 && large.Count > 0)
        {
            var less = small.Pop();
            var more = large.Pop();
            probability[less] = scaled[less];
            alias[less] = more;
            scaled[more] = scaled[more] + scaled[less] - 1;
            (scaled[more] < 1 ? small : large).Push(more);
        }

        foreach (var rest in large.Concat(small))
        {
            probability[rest] = 1;
            alias[rest] = rest;
        }

        return (probability, alias);
    }
}
