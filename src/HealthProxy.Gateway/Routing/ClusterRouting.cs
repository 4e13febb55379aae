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
/// <remarks>
/// Destinations fall into failover tiers by their <see cref="HealthProxyMetadata.Priority"/> (0, the default, is the
/// local tier). Each kind is served by the first tier with an instance eligible for it, so reads may stay on local
/// degraded instances while writes go to a remote tier's healthy ones; only when no tier has one do requests fall back
/// to all of the local tier's instances. A better tier takes a kind back only after it has been eligible for the
/// cluster's <see cref="WeightSettings.FailbackDelay"/>; <see cref="FailbackDue"/> tells the state store when to
/// rebuild for that, so the return needs no request to happen.
/// </remarks>
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

    /// <summary>Every destination, of every tier, at its base weight.</summary>
    public WeightedSet AllSet { get; private init; } = WeightedSet.Empty;

    /// <summary>Every destination of the local tier (the lowest priority present) at its base weight: the fallback for reads.</summary>
    public WeightedSet LocalSet { get; private init; } = WeightedSet.Empty;

    /// <summary>The failover tiers present, by priority, lowest (the local tier) first; one entry, 0, for a cluster without tiers.</summary>
    public int[] Tiers { get; private init; } = [];

    /// <summary>Which tier serves reads, since when, and the failback waiting.</summary>
    internal TierSelection ReadSelection { get; private init; } = null!;

    /// <summary>Which tier serves writes, since when, and the failback waiting.</summary>
    internal TierSelection WriteSelection { get; private init; } = null!;

    /// <summary>The destinations that take reads (healthy and degraded, weight above 0) in the tier serving reads, with their read weights.</summary>
    public WeightedSet ReadSet { get; private init; } = WeightedSet.Empty;

    /// <summary>The destinations that take writes (healthy, weight above 0) in the tier serving writes.</summary>
    public WeightedSet WriteSet { get; private init; } = WeightedSet.Empty;

    /// <summary>Where writes go while <see cref="WriteSet"/> is empty: the local tier's degraded ones first when the cluster says so, else all the local tier's.</summary>
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

    /// <summary>Instances that could take writes, in every tier: the healthy ones (unjudged ones count as healthy).</summary>
    public int Healthy { get; private init; }

    /// <summary>Instances that could take reads, in every tier, the healthy ones included.</summary>
    public int ReadEligible { get; private init; }

    /// <summary>Which tier serves requests of <paramref name="kind"/> now, since when, and which failback waits.</summary>
    internal TierSelection Selection(RequestKind kind) => kind == RequestKind.Read ? ReadSelection : WriteSelection;

    /// <summary>
    /// The priority of the tier requests of <paramref name="kind"/> go to now: the serving tier's, or the local tier's
    /// while none has an eligible instance (the fallback).
    /// </summary>
    public int ServingTier(RequestKind kind) => Selection(kind).ServingPriority ?? (Tiers.Length > 0 ? Tiers[0] : 0);

    /// <summary>The earliest moment a waiting failback is due, for either kind; null when none waits.</summary>
    public DateTimeOffset? FailbackDue =>
        (ReadSelection.FailbackDue, WriteSelection.FailbackDue) switch
        {
            ({ } read, { } write) => read < write ? read : write,
            (var read, var write) => read ?? write,
        };

    public IReadOnlyList<DestinationState> Eligible(RequestKind kind) => kind == RequestKind.Read ? Reads : Writes;

    public FallbackEpisode? Fallback(RequestKind kind) => kind == RequestKind.Read ? ReadFallback : WriteFallback;

    /// <summary>Where requests of <paramref name="kind"/> go when no instance is eligible for them.</summary>
    public WeightedSet FallbackSet(RequestKind kind) => kind == RequestKind.Read ? LocalSet : WriteFallbackSet;

    /// <summary>Which instances serve requests of <paramref name="kind"/> now: <c>healthy</c>, <c>healthy+degraded</c>, <c>degraded</c> or <c>all</c>.</summary>
    public string Tier(RequestKind kind)
    {
        if (kind == RequestKind.Write)
        {
            return WriteSet.Count > 0 ? "healthy" : ReferenceEquals(WriteFallbackSet, LocalSet) ? "all" : "degraded";
        }

        if (ReadSet.Count == 0)
        {
            return "all";
        }

        return ReadSet.Degraded.Contains(true) ? (ReadSet.Degraded.Contains(false) ? "healthy+degraded" : "degraded") : "healthy";
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
    /// episodes of <paramref name="previous"/> that are still going on and its tier selection's history (for the
    /// failback delay). <paramref name="metadata"/> is the cluster's configured metadata, kept by reference (YARP's
    /// config objects are immutable).
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
        var priorities = new int[count];
        var all = new Builder(count);
        for (var i = 0; i < count; i++)
        {
            var config = destinations[i].Model?.Config.Metadata;
            priorities[i] = WeightSettings.DestinationPriority(config, string.Empty, null);
            var weight = WeightSettings.DestinationWeight(config, HealthProxyMetadata.Weight, string.Empty, null) ?? 1;
            all.Add(destinations[i], weight > 0 ? weight : 1, degraded: false, DateTimeOffset.MinValue);
        }

        // One tier per priority present, lowest (the local tier) first; each is routed on its own like a cluster.
        var tierPriorities = priorities.Distinct().Order().ToArray();
        var tiers = new TierRouting[tierPriorities.Length];
        int healthy = 0, readEligible = 0;
        for (var t = 0; t < tiers.Length; t++)
        {
            var members = tierPriorities.Length == 1 ? destinations : [.. destinations.Where((_, i) => priorities[i] == tierPriorities[t])];
            tiers[t] = TierRouting.Build(clusterId, tierPriorities[t], members, health, settings, now);
            healthy += tiers[t].WriteSet.Count;
            readEligible += tiers[t].ReadSet.Count;
        }

        var reads = TierSelection.Choose(tiers, RequestKind.Read, previous?.ReadSelection, settings.FailbackDelay, now);
        var writes = TierSelection.Choose(tiers, RequestKind.Write, previous?.WriteSelection, settings.FailbackDelay, now);
        var local = tiers.Length > 0 ? tiers[0] : TierRouting.Empty;
        var readSet = reads.Serving >= 0 ? tiers[reads.Serving].ReadSet : WeightedSet.Empty;
        var writeSet = writes.Serving >= 0 ? tiers[writes.Serving].WriteSet : WeightedSet.Empty;
        return new ClusterRouting(clusterId, health.ToFrozenDictionary(StringComparer.Ordinal), metadata, settings)
        {
            AllSet = tiers.Length == 1 ? local.AllSet : all.Build(clusterId, settings, cap: 0, shedTo: null),
            LocalSet = local.AllSet,
            ReadSet = readSet,
            WriteSet = writeSet,
            WriteFallbackSet = local.WriteFallbackSet,
            Tiers = [.. tierPriorities],
            ReadSelection = reads,
            WriteSelection = writes,
            Healthy = healthy,
            ReadEligible = readEligible,
            ReadFallback = readSet.Count > 0 ? null : previous?.ReadFallback ?? new FallbackEpisode(),
            WriteFallback = writeSet.Count > 0 ? null : previous?.WriteFallback ?? new FallbackEpisode(),
        };
    }

    /// <summary>One failover tier's sets, built as a whole cluster's were before tiers: reads, writes, all, write fallback.</summary>
    internal sealed record TierRouting(int Priority, WeightedSet AllSet, WeightedSet ReadSet, WeightedSet WriteSet, WeightedSet WriteFallbackSet)
    {
        public static TierRouting Empty { get; } = new(0, WeightedSet.Empty, WeightedSet.Empty, WeightedSet.Empty, WeightedSet.Empty);

        public WeightedSet Eligible(RequestKind kind) => kind == RequestKind.Read ? ReadSet : WriteSet;

        public static TierRouting Build(
            string clusterId,
            int priority,
            IReadOnlyList<DestinationState> destinations,
            IReadOnlyDictionary<string, InstanceHealth> health,
            WeightSettings settings,
            DateTimeOffset now)
        {
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
            return new TierRouting(
                priority,
                allSet,
                reads.Build(clusterId, settings, settings.DegradedMaxInFlight, shedTo: allSet),
                writes.Build(clusterId, settings, cap: 0, shedTo: null),
                settings.WriteFallback == WriteFallbackOrder.DegradedFirst && degradedOnly.Count > 0 ? degradedOnly.Build(clusterId, settings, cap: 0, shedTo: null) : allSet);
        }
    }

    /// <summary>
    /// Which tier serves one request kind, since when, and since when each tier has been eligible for it (for the
    /// failback delay).
    /// </summary>
    /// <param name="Serving">The index in <see cref="Tiers"/> of the tier that serves the kind; -1 while none has an eligible instance.</param>
    /// <param name="Since">When <paramref name="Serving"/> took over.</param>
    /// <param name="EligibleSince">Per tier (as <see cref="Tiers"/>), since when it has had an instance eligible for the kind; null while it has none.</param>
    /// <param name="Priorities">The tiers' priorities, as <see cref="Tiers"/>.</param>
    /// <param name="FailbackDue">When a higher-priority tier will have been eligible for the failback delay and take over; null when none waits.</param>
    internal sealed record TierSelection(int Serving, DateTimeOffset Since, DateTimeOffset?[] EligibleSince, int[] Priorities, DateTimeOffset? FailbackDue)
    {
        /// <summary>The priority of the serving tier, or null while none serves.</summary>
        public int? ServingPriority => Serving >= 0 ? Priorities[Serving] : null;

        /// <summary>
        /// The rule, for both kinds: the first tier (by priority) with an eligible instance serves, except that a tier of
        /// higher priority than the one serving now takes over only once it has been eligible for <paramref name="delay"/>.
        /// Failing over to a lower-priority tier, and leaving the fallback, are immediate.
        /// </summary>
        public static TierSelection Choose(TierRouting[] tiers, RequestKind kind, TierSelection? previous, TimeSpan delay, DateTimeOffset now)
        {
            var eligibleSince = new DateTimeOffset?[tiers.Length];
            var priorities = new int[tiers.Length];
            for (var t = 0; t < tiers.Length; t++)
            {
                priorities[t] = tiers[t].Priority;
                if (tiers[t].Eligible(kind).Count > 0)
                {
                    eligibleSince[t] = previous?.EligibleSinceOf(tiers[t].Priority) ?? now;
                }
            }

            // A cluster with no previous selection, or one in the fallback, takes the best tier at once.
            var current = previous?.ServingPriority ?? int.MinValue;
            int serving = -1, firstEligible = -1;
            for (var t = 0; t < tiers.Length && serving < 0; t++)
            {
                if (eligibleSince[t] is not { } since)
                {
                    continue;
                }

                if (firstEligible < 0)
                {
                    firstEligible = t;
                }

                if (priorities[t] >= current || now - since >= delay)
                {
                    serving = t;
                }
            }

            // The tier serving now lost its instances and only better tiers still settling have some: take the best.
            serving = serving < 0 ? firstEligible : serving;
            DateTimeOffset? due = null;
            for (var t = 0; t < serving; t++)
            {
                if (eligibleSince[t] is { } since && (due is null || since + delay < due))
                {
                    due = since + delay;
                }
            }

            var servingPriority = serving >= 0 ? priorities[serving] : (int?)null;
            var keeps = previous is not null && previous.ServingPriority == servingPriority;
            return new TierSelection(serving, keeps ? previous!.Since : now, eligibleSince, priorities, due);
        }

        private DateTimeOffset? EligibleSinceOf(int priority)
        {
            var index = Array.IndexOf(Priorities, priority);
            return index >= 0 ? EligibleSince[index] : null;
        }
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
