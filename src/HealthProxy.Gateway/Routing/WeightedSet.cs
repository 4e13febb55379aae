using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// One immutable set of destinations a request may go to (a cluster's reads, writes, or fallback), with each one's
/// effective weight. Built with the cluster's <see cref="ClusterRouting"/>; <see cref="HealthWeightedPolicy"/> picks from it.
/// </summary>
/// <remarks>
/// The weight of an instance in slow start depends on the time, so it is not folded into <see cref="Cumulative"/>:
/// while <see cref="RampEnds"/> is ahead, a pick computes each instance's ramped weight (a pass over the set);
/// otherwise it is a binary search in <see cref="Cumulative"/>.
/// </remarks>
internal sealed class WeightedSet
{
    public static WeightedSet Empty { get; } = new([], [], [], [], DateTimeOffset.MinValue);

    public WeightedSet(DestinationState[] destinations, double[] weights, bool[] degraded, DateTimeOffset[] rampStarts, DateTimeOffset rampEnds)
    {
        Destinations = destinations;
        Weights = weights;
        Degraded = degraded;
        RampStarts = rampStarts;
        RampEnds = rampEnds;
        Cumulative = new double[weights.Length];
        var total = 0d;
        for (var i = 0; i < weights.Length; i++)
        {
            total += weights[i];
            Cumulative[i] = total;
        }

        Total = total;
    }

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

    public double[] Cumulative { get; }

    public double Total { get; }

    public int Count => Destinations.Length;

    /// <summary>Index of <paramref name="destinationId"/>, or -1.</summary>
    public int IndexOf(string destinationId)
    {
        for (var i = 0; i < Destinations.Length; i++)
        {
            if (string.Equals(Destinations[i].DestinationId, destinationId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A destination's weight at <paramref name="now"/>, slow start included.</summary>
    public double WeightAt(int index, WeightSettings settings, DateTimeOffset now) =>
        RampStarts[index] == DateTimeOffset.MinValue ? Weights[index] : Weights[index] * settings.RampFactor(now - RampStarts[index]);
}
