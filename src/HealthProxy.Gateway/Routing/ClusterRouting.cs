using System.Collections.Frozen;
using HealthProxy.Gateway.Configuration;
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
    private ClusterRouting(string clusterId, FrozenDictionary<string, InstanceHealth> instances, IReadOnlyDictionary<string, string>? metadata, WeightSettings settings)
    {
        ClusterId = clusterId;
        Instances = instances;
        Metadata = metadata;
        Settings = settings;
    }

    public string ClusterId { get; }

    public IReadOnlyList<DestinationState> All => AllSet;

    public IReadOnlyList<DestinationState> Reads => ReadSet;

    public IReadOnlyList<DestinationState> Writes => WriteSet;

    /// <summary>Every destination at its base weight: the fallback.</summary>
    public WeightedSet AllSet { get; private init; } = WeightedSet.Empty;

    /// <summary>The destinations that take reads (healthy and degraded, weight above 0), with their read weights.</summary>
    public WeightedSet ReadSet { get; private init; } = WeightedSet.Empty;

    /// <summary>The destinations that take writes (healthy, weight above 0).</summary>
    public WeightedSet WriteSet { get; private init; } = WeightedSet.Empty;

    /// <summary>Where writes go while <see cref="WriteSet"/> is empty: the degraded ones first when the cluster says so, else all.</summary>
    public WeightedSet WriteFallbackSet { get; private init; } = WeightedSet.Empty;

    /// <summary>Each destination's health, by destination id.</summary>
    public FrozenDictionary<string, InstanceHealth> Instances { get; }

    /// <summary>The current no-eligible-reads episode, or null while reads have somewhere to go.</summary>
    public FallbackEpisode? ReadFallback { get; private init; }

    /// <summary>The current no-eligible-writes episode, or null while writes have somewhere to go.</summary>
    public FallbackEpisode? WriteFallback { get; private init; }

    /// <summary>The cluster's YARP metadata as configured (category, criticality, dependencies), or null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>The cluster's weighting rules.</summary>
    public WeightSettings Settings { get; }

    /// <summary>Instances that take writes: the healthy ones (unjudged ones count as healthy).</summary>
    public int Healthy => WriteSet.Count;

    /// <summary>Instances that take reads, the healthy ones included.</summary>
    public int ReadEligible => ReadSet.Count;

    public IReadOnlyList<DestinationState> Eligible(RequestKind kind) => kind == RequestKind.Read ? Reads : Writes;

    public FallbackEpisode? Fallback(RequestKind kind) => kind == RequestKind.Read ? ReadFallback : WriteFallback;

    /// <summary>Where requests of <paramref name="kind"/> go when no instance is eligible for them.</summary>
    public WeightedSet FallbackSet(RequestKind kind) => kind == RequestKind.Read ? AllSet : WriteFallbackSet;

    /// <summary>Which instances serve requests of <paramref name="kind"/> now: <c>healthy</c>, <c>healthy+degraded</c>, <c>degraded</c> or <c>all</c>.</summary>
    public string Tier(RequestKind kind)
    {
        if (kind == RequestKind.Write)
        {
            return WriteSet.Count > 0 ? "healthy" : ReferenceEquals(WriteFallbackSet, AllSet) ? "all" : "degraded";
        }

        if (ReadSet.Count == 0)
        {
            return "all";
        }

        return ReadSet.Degraded.Contains(true) ? (WriteSet.Count > 0 ? "healthy+degraded" : "degraded") : "healthy";
    }

    /// <summary>
    /// Each instance's weights at <paramref name="now"/>, as routing uses them: for reads and for writes (0 = takes
    /// none of that kind), its slow-start factor (1 = not ramping), and its requests in flight.
    /// </summary>
    public InstanceWeight[] Weights(DateTimeOffset now)
    {
        // The read and write sets are subsequences of the full set, in the same (id) order: one walk matches them.
        var result = new InstanceWeight[AllSet.Count];
        int nextRead = 0, nextWrite = 0;
        for (var i = 0; i < AllSet.Count; i++)
        {
            var destination = AllSet.Destinations[i];
            var read = nextRead < ReadSet.Count && ReferenceEquals(ReadSet.Destinations[nextRead], destination) ? nextRead++ : -1;
            var write = nextWrite < WriteSet.Count && ReferenceEquals(WriteSet.Destinations[nextWrite], destination) ? nextWrite++ : -1;
            var ramp = read >= 0 && ReadSet.RampStarts[read] != DateTimeOffset.MinValue ? Settings.RampFactor(now - ReadSet.RampStarts[read]) : 1;
            result[i] = new InstanceWeight(
                destination.DestinationId,
                read >= 0 ? ReadSet.WeightAt(read, Settings, now) : 0,
                write >= 0 ? WriteSet.WeightAt(write, Settings, now) : 0,
                ramp,
                destination.ConcurrentRequestCount);
        }

        return result;
    }

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
        IReadOnlyDictionary<string, string>? metadata = null,
        WeightSettings? settings = null,
        DateTimeOffset now = default)
    {
        settings ??= WeightSettings.Default;
        var count = destinations.Count;
        var baseWeights = new double[count];
        var stated = new double?[count];
        var states = new HealthState[count];
        var ramps = new DateTimeOffset[count];
        int healthyCount = 0, degradedCount = 0;
        double healthyWeight = 0, degradedBase = 0;
        for (var i = 0; i < count; i++)
        {
            var destination = destinations[i];
            var config = destination.Model?.Config.Metadata;
            baseWeights[i] = WeightSettings.DestinationWeight(config, HealthProxyMetadata.Weight, string.Empty, null) ?? 1;
            stated[i] = WeightSettings.DestinationWeight(config, HealthProxyMetadata.DegradedWeight, string.Empty, null);
            health.TryGetValue(destination.DestinationId, out var instance);
            states[i] = instance?.RoutingState ?? HealthState.Healthy;
            ramps[i] = settings.SlowStartWindow > TimeSpan.Zero && instance?.RoutableSince is { } since && now - since < settings.SlowStartWindow
                ? since
                : DateTimeOffset.MinValue;
            if (states[i] == HealthState.Healthy && baseWeights[i] > 0)
            {
                healthyCount++;
                healthyWeight += baseWeights[i];
            }
            else if (states[i] == HealthState.Degraded)
            {
                degradedCount++;
                degradedBase += baseWeights[i];
            }
        }

        // Spill-over: the healthy take min(100%, healthy share x factor) of the reads, the degraded the rest.
        var spillScale = 0d;
        if (settings.DegradedMode == DegradedMode.SpillOver && degradedBase > 0)
        {
            var healthyShare = Math.Min(1, (double)healthyCount / count * settings.OverprovisioningFactor);
            spillScale = healthyCount == 0 ? 1 : healthyShare >= 1 ? 0 : healthyWeight * (1 - healthyShare) / healthyShare / degradedBase;
        }

        var all = new Builder(count);
        var reads = new Builder(count);
        var writes = new Builder(count);
        var degradedOnly = new Builder(degradedCount);
        for (var i = 0; i < count; i++)
        {
            var destination = destinations[i];
            all.Add(destination, baseWeights[i] > 0 ? baseWeights[i] : 1, degraded: false, DateTimeOffset.MinValue);
            switch (states[i])
            {
                case HealthState.Healthy when baseWeights[i] > 0:
                    reads.Add(destination, baseWeights[i], degraded: false, ramps[i]);
                    writes.Add(destination, baseWeights[i], degraded: false, ramps[i]);
                    break;
                case HealthState.Degraded:
                    var weight = settings.DegradedMode == DegradedMode.SpillOver
                        ? baseWeights[i] * spillScale
                        : stated[i] ?? baseWeights[i] * settings.DegradedWeight;
                    if (weight > 0)
                    {
                        reads.Add(destination, weight, degraded: true, ramps[i]);
                        degradedOnly.Add(destination, baseWeights[i] > 0 ? baseWeights[i] : 1, degraded: true, ramps[i]);
                    }

                    break;
            }
        }

        var allSet = all.Build(clusterId, settings, cap: 0, shedTo: null);
        var readSet = reads.Build(clusterId, settings, settings.DegradedMaxInFlight, shedTo: allSet);
        var writeSet = writes.Build(clusterId, settings, cap: 0, shedTo: null);
        return new ClusterRouting(clusterId, health.ToFrozenDictionary(StringComparer.Ordinal), metadata, settings)
        {
            AllSet = allSet,
            ReadSet = readSet,
            WriteSet = writeSet,
            WriteFallbackSet = settings.WriteFallback == WriteFallbackOrder.DegradedFirst && degradedOnly.Count > 0 ? degradedOnly.Build(clusterId, settings, cap: 0, shedTo: null) : allSet,
            ReadFallback = readSet.Count > 0 ? null : previous?.ReadFallback ?? new FallbackEpisode(),
            WriteFallback = writeSet.Count > 0 ? null : previous?.WriteFallback ?? new FallbackEpisode(),
        };
    }

    private sealed class Builder(int capacity)
    {
        private readonly List<DestinationState> _destinations = new(capacity);
        private readonly List<double> _weights = new(capacity);
        private readonly List<bool> _degraded = new(capacity);
        private readonly List<DateTimeOffset> _ramps = new(capacity);
        private DateTimeOffset _rampEnds = DateTimeOffset.MinValue;

        public int Count => _destinations.Count;

        public void Add(DestinationState destination, double weight, bool degraded, DateTimeOffset rampStart)
        {
            _destinations.Add(destination);
            _weights.Add(weight);
            _degraded.Add(degraded);
            _ramps.Add(rampStart);
            if (rampStart != DateTimeOffset.MinValue && rampStart > _rampEnds)
            {
                _rampEnds = rampStart;
            }
        }

        public WeightedSet Build(string clusterId, WeightSettings settings, int cap, WeightedSet? shedTo) => new(
            clusterId,
            settings,
            [.. _destinations],
            [.. _weights],
            [.. _degraded],
            [.. _ramps],
            _rampEnds == DateTimeOffset.MinValue ? _rampEnds : _rampEnds + settings.SlowStartWindow,
            cap,
            shedTo);
    }
}

/// <summary>One instance's weights as routing uses them at one moment (see <see cref="ClusterRouting.Weights"/>).</summary>
internal readonly record struct InstanceWeight(string DestinationId, double Read, double Write, double SlowStart, int InFlight);
