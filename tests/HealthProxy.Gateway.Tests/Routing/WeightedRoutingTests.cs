using CsCheck;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Routing;

/// <summary>Effective weights, slow start, the degraded cap and the weighted pick, on the product's own routing snapshot.</summary>
public class WeightedRoutingTests
{
    private const int Picks = 40_000;
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void DegradedDefault_TwoHealthyOneDegraded_DegradedTakesUnderTenPercentOfReads()
    {
        var routing = Build(WeightSettings.Default, ("a", HealthState.Healthy, null), ("b", HealthState.Healthy, null), ("c", HealthState.Degraded, null));

        Assert.Equal([1, 1, 0.2], routing.ReadSet.Weights);
        var shares = Shares(routing.ReadSet, WeightSettings.Default);
        Assert.InRange(shares["c"], 0.08, 0.10);
        Assert.Equal(["a", "b"], routing.Writes.Select(d => d.DestinationId));
        Assert.Equal(
            [new InstanceWeight("a", 1, 1, 1, 0), new InstanceWeight("b", 1, 1, 1, 0), new InstanceWeight("c", 0.2, 0, 1, 0)],
            routing.Weights(Now));
    }

    [Fact]
    public void StaticWeights_IdleInstances_SharesFollowWeights()
    {
        var routing = Build(WeightSettings.Default, ("a", HealthState.Healthy, "1"), ("b", HealthState.Healthy, "2"), ("c", HealthState.Healthy, "3"));

        var shares = Shares(routing.WriteSet, WeightSettings.Default);

        Assert.InRange(shares["a"], 1 / 6d - 0.015, 1 / 6d + 0.015);
        Assert.InRange(shares["b"], 2 / 6d - 0.015, 2 / 6d + 0.015);
        Assert.InRange(shares["c"], 3 / 6d - 0.015, 3 / 6d + 0.015);
    }

    [Fact]
    public void InFlightPerWeight_BusyInstance_LosesTheDrawToAnIdleOne()
    {
        var routing = Build(WeightSettings.Default, ("a", HealthState.Healthy, "1"), ("b", HealthState.Healthy, "1"));
        routing.WriteSet.Destinations[0].ConcurrentRequestCount = 5;

        var shares = Shares(routing.WriteSet, WeightSettings.Default);

        // "a" wins only when both draws are "a" (1 in 4).
        Assert.InRange(shares["a"], 0.22, 0.28);
    }

    [Fact]
    public void StatedDegradedWeight_WinsOverTheClusterFactor_AndZeroTakesNoReads()
    {
        var routing = Build(
            WeightSettings.Default,
            [("a", HealthState.Degraded, "4", "2"), ("b", HealthState.Degraded, "4", "0"), ("c", HealthState.Degraded, "4", null)]);

        Assert.Equal(["a", "c"], routing.Reads.Select(d => d.DestinationId));
        Assert.Equal([2, 0.8], routing.ReadSet.Weights);
    }

    [Fact]
    public void ZeroBaseWeight_TakesNeitherReadsNorWrites()
    {
        var routing = Build(WeightSettings.Default, ("a", HealthState.Healthy, "0"), ("b", HealthState.Healthy, null));

        Assert.Equal(["b"], routing.Reads.Select(d => d.DestinationId));
        Assert.Equal(["b"], routing.Writes.Select(d => d.DestinationId));
    }

    [Theory]
    [InlineData(2, 1, 1 - (2 / 3d * 1.4))]
    [InlineData(1, 2, 1 - (1 / 3d * 1.4))]
    [InlineData(3, 1, 0)]
    public void SpillOver_DegradedTakeWhatTheHealthyShareTimesTheFactorLeaves(int healthy, int degraded, double expectedDegradedShare)
    {
        var settings = WeightSettings.Default with { DegradedMode = DegradedMode.SpillOver };
        var states = Enumerable.Range(0, healthy).Select(i => ($"h{i}", HealthState.Healthy, (string?)null))
            .Concat(Enumerable.Range(0, degraded).Select(i => ($"d{i}", HealthState.Degraded, (string?)null)))
            .ToArray();

        var routing = Build(settings, states);

        var degradedWeight = routing.ReadSet.Weights.Where((_, i) => routing.ReadSet.Degraded[i]).Sum();
        Assert.Equal(expectedDegradedShare, degradedWeight / routing.ReadSet.Total, 6);
    }

    [Theory]
    [InlineData(0, 1, 0.1)]
    [InlineData(30, 1, 0.5)]
    [InlineData(60, 1, 1)]
    [InlineData(90, 1, 1)]
    [InlineData(15, 2, 0.5)]
    [InlineData(3, 1, 0.1)]
    public void RampFactor_FollowsEnvoysFormula(int seconds, double aggression, double expected)
    {
        var settings = WeightSettings.Default with { SlowStartWindow = TimeSpan.FromSeconds(60), SlowStartAggression = aggression };

        Assert.Equal(expected, settings.RampFactor(TimeSpan.FromSeconds(seconds)), 6);
    }

    [Fact]
    public void SlowStart_RampingInstance_ShareRisesOverTheWindow()
    {
        var settings = WeightSettings.Default with { SlowStartWindow = TimeSpan.FromSeconds(60) };
        var health = new Dictionary<string, InstanceHealth>
        {
            ["a"] = new("c", "a", HealthState.Healthy, HealthSource.Probe, Now),
            ["b"] = new("c", "b", HealthState.Healthy, HealthSource.Probe, Now, RoutableSince: Now),
        };
        var routing = ClusterRouting.Build("c", [new("a"), new("b")], health, null, null, settings, Now);

        var early = Shares(routing.WriteSet, settings, Now.AddSeconds(6), ramping: true);
        var middle = Shares(routing.WriteSet, settings, Now.AddSeconds(30), ramping: true);
        var done = Shares(routing.WriteSet, settings, Now.AddSeconds(61), ramping: true);

        Assert.InRange(early["b"], 0.07, 0.11); // 0.1 / 1.1
        Assert.InRange(middle["b"], 0.30, 0.37); // 0.5 / 1.5
        Assert.InRange(done["b"], 0.47, 0.53);
        Assert.Equal(Now.AddSeconds(60), routing.WriteSet.RampEnds);
    }

    [Fact]
    public void DegradedCap_AtTheCap_TakesNoReadsAndAllCappedReturnsNoPick()
    {
        var settings = WeightSettings.Default with { DegradedWeight = 1, DegradedMaxInFlight = 2 };
        var routing = Build(settings, ("a", HealthState.Healthy, null), ("b", HealthState.Degraded, null));
        routing.ReadSet.Destinations[1].ConcurrentRequestCount = 2;

        var shares = Shares(routing.ReadSet, settings, cap: 2);
        Assert.Equal(1, shares["a"]);

        var degradedOnly = Build(settings, ("b", HealthState.Degraded, null), ("c", HealthState.Degraded, null));
        degradedOnly.ReadSet.Destinations[0].ConcurrentRequestCount = 2;
        degradedOnly.ReadSet.Destinations[1].ConcurrentRequestCount = 3;
        Assert.Equal(-1, HealthWeightedPolicy.Pick(degradedOnly.ReadSet, settings, Now, ramping: false, cap: 2));
    }

    [Fact]
    public void WriteFallback_DegradedFirst_SendsWritesToDegradedBeforeAll()
    {
        var settings = WeightSettings.Default with { WriteFallback = WriteFallbackOrder.DegradedFirst };
        var routing = Build(settings, ("a", HealthState.Degraded, null), ("b", HealthState.Unhealthy, null), ("c", HealthState.Draining, null));

        Assert.Equal(["a"], routing.FallbackSet(RequestKind.Write).Destinations.Select(d => d.DestinationId));
        Assert.Equal("degraded", routing.Tier(RequestKind.Write));
        Assert.Equal(3, routing.FallbackSet(RequestKind.Read).Count);

        var byDefault = Build(WeightSettings.Default, ("a", HealthState.Degraded, null), ("b", HealthState.Unhealthy, null));
        Assert.Equal("all", byDefault.Tier(RequestKind.Write));
        Assert.Equal("degraded", byDefault.Tier(RequestKind.Read));
    }

    [Fact]
    public void Parse_BadValues_NameTheirKeys()
    {
        var problems = new List<string>();
        var metadata = new Dictionary<string, string>
        {
            [HealthProxyMetadata.DegradedWeight] = "2",
            [HealthProxyMetadata.DegradedMode] = "sideways",
            [HealthProxyMetadata.DegradedMaxInFlight] = "-1",
            [HealthProxyMetadata.SlowStartWindow] = "soon",
            [HealthProxyMetadata.WriteFallback] = "nowhere",
        };

        var settings = WeightSettings.Parse(metadata, "ReverseProxy:Clusters:c:Metadata", problems);

        Assert.Equal(5, problems.Count);
        Assert.All(problems, p => Assert.StartsWith("ReverseProxy:Clusters:c:Metadata:HealthProxy.", p));
        Assert.Equal(WeightSettings.Default, settings);
    }

    [Fact]
    public void Pick_AnyStatesWeightsAndLoad_NeverPicksAnInstanceTheKindExcludes()
    {
        var states = Gen.Enum<HealthState>();
        var instance = Gen.Select(states, Gen.Int[0, 3], Gen.Int[0, 4]);
        Gen.Select(instance.Array[1, 8], Gen.Int[0, 3], Gen.Bool).Sample((instances, cap, read) =>
        {
            var settings = WeightSettings.Default with { DegradedMaxInFlight = cap };
            var routing = Build(settings, [.. instances.Select((s, i) => ($"d{i}", s.Item1, (string?)s.Item2.ToString(), (string?)null))]);
            for (var i = 0; i < instances.Length; i++)
            {
                routing.AllSet.Destinations[i].ConcurrentRequestCount = instances[i].Item3;
            }

            var kind = read ? RequestKind.Read : RequestKind.Write;
            var set = kind == RequestKind.Read ? routing.ReadSet : routing.WriteSet;
            if (set.Count == 0)
            {
                return;
            }

            for (var n = 0; n < 50; n++)
            {
                var picked = HealthWeightedPolicy.Pick(set, settings, Now, ramping: false, cap: read ? cap : 0);
                if (picked < 0)
                {
                    Assert.True(read && cap > 0);
                    continue;
                }

                var state = routing.Instances[set.Destinations[picked].DestinationId].RoutingState;
                Assert.True(state.Accepts(kind), $"{state} picked for a {kind}");
                Assert.True(set.Weights[picked] > 0);
                Assert.False(read && cap > 0 && set.Degraded[picked] && set.Destinations[picked].ConcurrentRequestCount >= cap);
            }
        });
    }

    private static Dictionary<string, double> Shares(WeightedSet set, WeightSettings settings, DateTimeOffset? now = null, bool ramping = false, int cap = 0)
    {
        var counts = set.Destinations.ToDictionary(d => d.DestinationId, _ => 0, StringComparer.Ordinal);
        for (var i = 0; i < Picks; i++)
        {
            var picked = HealthWeightedPolicy.Pick(set, settings, now ?? Now, ramping, cap);
            counts[set.Destinations[picked].DestinationId]++;
        }

        return counts.ToDictionary(c => c.Key, c => (double)c.Value / Picks, StringComparer.Ordinal);
    }

    private static ClusterRouting Build(WeightSettings settings, params (string Id, HealthState State, string? Weight)[] instances) =>
        Build(settings, [.. instances.Select(i => (i.Id, i.State, i.Weight, (string?)null))]);

    private static ClusterRouting Build(WeightSettings settings, (string Id, HealthState State, string? Weight, string? DegradedWeight)[] instances)
    {
        var destinations = instances.Select(i =>
        {
            var metadata = new Dictionary<string, string>();
            if (i.Weight is { } weight)
            {
                metadata[HealthProxyMetadata.Weight] = weight;
            }

            if (i.DegradedWeight is { } degraded)
            {
                metadata[HealthProxyMetadata.DegradedWeight] = degraded;
            }

            return new DestinationState(i.Id, new DestinationModel(new DestinationConfig { Address = "http://backend.invalid", Metadata = metadata }));
        }).ToArray();
        var health = instances.ToDictionary(i => i.Id, i => new InstanceHealth("c", i.Id, i.State, HealthSource.Probe, Now));
        return ClusterRouting.Build("c", destinations, health, null, null, settings, Now);
    }
}
