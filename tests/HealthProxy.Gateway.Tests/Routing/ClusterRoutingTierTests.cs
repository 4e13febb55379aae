using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Routing;

public class ClusterRoutingTierTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);
    private static readonly WeightSettings Settings = WeightSettings.Default with { FailbackDelay = Delay };

    // Local tier 0: l1, l2; remote tier 1: r1, r2; a last-resort tier 5: z1.
    private static readonly DestinationState[] Destinations =
        [TestClusters.Tiered("l1", 0), TestClusters.Tiered("l2", 0), TestClusters.Tiered("r1", 1), TestClusters.Tiered("r2", 1), TestClusters.Tiered("z1", 5)];

    [Fact]
    public void Build_LocalTierHealthy_ServesBothKindsLocally()
    {
        var routing = Build(null, Start);

        Assert.Equal([0, 1, 5], routing.Tiers);
        Assert.Equal(["l1", "l2"], Ids(routing.Reads));
        Assert.Equal(["l1", "l2"], Ids(routing.Writes));
        Assert.Equal(0, routing.ServingTier(RequestKind.Read));
        Assert.Equal(0, routing.ServingTier(RequestKind.Write));
        Assert.Equal(5, routing.All.Count);
        Assert.Equal(5, routing.Healthy);
        Assert.Null(routing.FailbackDue);
    }

    [Fact]
    public void Build_LocalOnlyDegraded_ReadsStayLocalWithDegradedWeightsWritesGoRemote()
    {
        var routing = Build(null, Start, ("l1", HealthState.Degraded), ("l2", HealthState.Unhealthy));

        Assert.Equal(["l1"], Ids(routing.Reads));
        Assert.True(routing.ReadSet.Degraded[0]);
        Assert.Equal(WeightSettings.DefaultDegradedWeight, routing.ReadSet.Weights[0]);
        Assert.Equal(["r1", "r2"], Ids(routing.Writes));
        Assert.Equal(0, routing.ServingTier(RequestKind.Read));
        Assert.Equal(1, routing.ServingTier(RequestKind.Write));
        Assert.Null(routing.WriteFallback);
    }

    [Fact]
    public void Build_LocalTierGone_BothKindsGoToTheNextTierThatHasEligibleInstances()
    {
        var routing = Build(null, Start, ("l1", HealthState.Unhealthy), ("l2", HealthState.Draining), ("r1", HealthState.Starting), ("r2", HealthState.Unhealthy));

        Assert.Equal(["z1"], Ids(routing.Reads));
        Assert.Equal(["z1"], Ids(routing.Writes));
        Assert.Equal(5, routing.ServingTier(RequestKind.Write));
    }

    [Fact]
    public void Build_NoTierEligible_FallsBackToTheLocalTierOnly()
    {
        var routing = Build(
            null, Start, ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy), ("r1", HealthState.Unhealthy), ("r2", HealthState.Unhealthy), ("z1", HealthState.Unhealthy));

        Assert.Empty(routing.Reads);
        Assert.Equal(["l1", "l2"], Ids(routing.FallbackSet(RequestKind.Read)));
        Assert.Equal(["l1", "l2"], Ids(routing.FallbackSet(RequestKind.Write)));
        Assert.Equal(0, routing.ServingTier(RequestKind.Read));
        Assert.Equal(-1, routing.Selection(RequestKind.Read).Serving);
        Assert.NotNull(routing.ReadFallback);
    }

    [Fact]
    public void Build_LocalTierBack_TrafficReturnsOnlyOnceItHasBeenEligibleForTheFailbackDelay()
    {
        var down = Build(null, Start, ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy));
        Assert.Equal(1, down.ServingTier(RequestKind.Write));

        var back = Build(down, Start + TimeSpan.FromSeconds(10));
        Assert.Equal(1, back.ServingTier(RequestKind.Read));
        Assert.Equal(1, back.ServingTier(RequestKind.Write));
        Assert.Equal(["r1", "r2"], Ids(back.Writes));
        Assert.Equal(Start + TimeSpan.FromSeconds(40), back.FailbackDue);

        var almost = Build(back, Start + TimeSpan.FromSeconds(39));
        Assert.Equal(1, almost.ServingTier(RequestKind.Write));
        Assert.Equal(Start, almost.Selection(RequestKind.Write).Since);

        var returned = Build(almost, Start + TimeSpan.FromSeconds(40));
        Assert.Equal(0, returned.ServingTier(RequestKind.Read));
        Assert.Equal(0, returned.ServingTier(RequestKind.Write));
        Assert.Equal(["l1", "l2"], Ids(returned.Writes));
        Assert.Equal(Start + TimeSpan.FromSeconds(40), returned.Selection(RequestKind.Write).Since);
        Assert.Null(returned.FailbackDue);
    }

    [Fact]
    public void Build_LocalTierFlaps_ItsEligibleClockRestartsAndFailoverStaysImmediate()
    {
        var down = Build(null, Start, ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy));
        var back = Build(down, Start + TimeSpan.FromSeconds(10));
        var downAgain = Build(back, Start + TimeSpan.FromSeconds(20), ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy));
        Assert.Null(downAgain.FailbackDue);

        var backAgain = Build(downAgain, Start + TimeSpan.FromSeconds(25));
        Assert.Equal(1, Build(backAgain, Start + TimeSpan.FromSeconds(45)).ServingTier(RequestKind.Write));
        Assert.Equal(Start + TimeSpan.FromSeconds(55), backAgain.FailbackDue);

        // Once local serves, losing it moves writes away at once.
        var local = Build(backAgain, Start + TimeSpan.FromSeconds(55));
        Assert.Equal(0, local.ServingTier(RequestKind.Write));
        var lost = Build(local, Start + TimeSpan.FromSeconds(56), ("l1", HealthState.Degraded), ("l2", HealthState.Degraded));
        Assert.Equal(1, lost.ServingTier(RequestKind.Write));
        Assert.Equal(0, lost.ServingTier(RequestKind.Read));
    }

    [Fact]
    public void Build_ServingTierLostWhileABetterOneSettles_TheBetterOneServesAtOnce()
    {
        var down = Build(null, Start, ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy));
        var back = Build(down, Start + TimeSpan.FromSeconds(1));
        var remoteGone = Build(back, Start + TimeSpan.FromSeconds(2), ("r1", HealthState.Unhealthy), ("r2", HealthState.Unhealthy), ("z1", HealthState.Unhealthy));

        Assert.Equal(0, remoteGone.ServingTier(RequestKind.Write));
        Assert.Equal(["l1", "l2"], Ids(remoteGone.Writes));
    }

    [Fact]
    public void Build_ZeroFailbackDelay_ReturnsOnTheFirstEligibleSnapshot()
    {
        var settings = WeightSettings.Default with { FailbackDelay = TimeSpan.Zero };
        var down = Build(null, Start, settings, ("l1", HealthState.Unhealthy), ("l2", HealthState.Unhealthy));
        var back = Build(down, Start + TimeSpan.FromSeconds(1), settings);

        Assert.Equal(0, back.ServingTier(RequestKind.Write));
    }

    [Fact]
    public void Build_DestinationsWithoutPriority_AreOneLocalTierAsBefore()
    {
        DestinationState[] plain = [new("a"), new("b")];
        var health = new Dictionary<string, InstanceHealth> { ["a"] = new("c", "a", HealthState.Unhealthy, HealthSource.Probe, Start) };
        var routing = ClusterRouting.Build("c", plain, health, previous: null, settings: Settings, now: Start);

        Assert.Equal([0], routing.Tiers);
        Assert.Same(routing.AllSet, routing.LocalSet);
        Assert.Equal(["b"], Ids(routing.Writes));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("101")]
    [InlineData("one")]
    [InlineData("1.5")]
    public void DestinationPriority_OutOfRange_IsAProblemNamingTheKey(string value)
    {
        var problems = new List<string>();
        var priority = WeightSettings.DestinationPriority(new Dictionary<string, string> { [HealthProxyMetadata.Priority] = value }, "ReverseProxy:Clusters:c:Destinations:d:Metadata", problems);

        Assert.Equal(0, priority);
        Assert.Contains("ReverseProxy:Clusters:c:Destinations:d:Metadata:HealthProxy.Priority", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FailbackDelay_DefaultsTo30SecondsAndRefusesNegative()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), WeightSettings.Parse(new Dictionary<string, string>(), "p", null).FailbackDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), WeightSettings.Parse(new Dictionary<string, string> { [HealthProxyMetadata.FailbackDelay] = "00:00:05" }, "p", null).FailbackDelay);
        var problems = new List<string>();
        WeightSettings.Parse(new Dictionary<string, string> { [HealthProxyMetadata.FailbackDelay] = "-00:00:05" }, "p", problems);
        Assert.Contains("p:HealthProxy.FailbackDelay", Assert.Single(problems), StringComparison.Ordinal);
    }

    private static string[] Ids(IEnumerable<DestinationState> destinations) => [.. destinations.Select(d => d.DestinationId)];

    private static ClusterRouting Build(ClusterRouting? previous, DateTimeOffset now, params (string Id, HealthState State)[] states) =>
        Build(previous, now, Settings, states);

    private static ClusterRouting Build(ClusterRouting? previous, DateTimeOffset now, WeightSettings settings, params (string Id, HealthState State)[] states)
    {
        var health = Destinations.ToDictionary(
            d => d.DestinationId,
            d => new InstanceHealth("c", d.DestinationId, states.FirstOrDefault(s => s.Id == d.DestinationId) is { Id: not null } s ? s.State : HealthState.Healthy, HealthSource.Probe, Start));
        return ClusterRouting.Build("c", Destinations, health, previous, settings: settings, now: now);
    }
}
