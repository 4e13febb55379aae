using HealthProxy.Health;

namespace HealthProxy.Health.Tests;

public class HealthStateExtensionsTests
{
    [Theory]
    [InlineData(HealthState.Healthy, RequestKind.Read, true)]
    [InlineData(HealthState.Healthy, RequestKind.Write, true)]
    [InlineData(HealthState.Degraded, RequestKind.Read, true)]
    [InlineData(HealthState.Degraded, RequestKind.Write, false)]
    [InlineData(HealthState.Starting, RequestKind.Read, false)]
    [InlineData(HealthState.Starting, RequestKind.Write, false)]
    [InlineData(HealthState.Draining, RequestKind.Read, false)]
    [InlineData(HealthState.Draining, RequestKind.Write, false)]
    [InlineData(HealthState.Unhealthy, RequestKind.Read, false)]
    [InlineData(HealthState.Unhealthy, RequestKind.Write, false)]
    public void Accepts_StateAndKind_FollowsTheRoutingTable(HealthState state, RequestKind kind, bool expected)
    {
        Assert.Equal(expected, state.Accepts(kind));
    }

    [Theory]
    [InlineData(HealthState.Unhealthy, HealthState.Draining, HealthState.Unhealthy)]
    [InlineData(HealthState.Draining, HealthState.Starting, HealthState.Draining)]
    [InlineData(HealthState.Starting, HealthState.Degraded, HealthState.Starting)]
    [InlineData(HealthState.Degraded, HealthState.Healthy, HealthState.Degraded)]
    [InlineData(HealthState.Healthy, HealthState.Healthy, HealthState.Healthy)]
    public void Worst_TwoStates_PrecedenceWinsEitherWay(HealthState a, HealthState b, HealthState expected)
    {
        Assert.Equal(expected, a.Worst(b));
        Assert.Equal(expected, b.Worst(a));
    }

    [Fact]
    public void ToWireName_EveryState_ParsesBackToItself()
    {
        foreach (var state in Enum.GetValues<HealthState>())
        {
            Assert.True(HealthStateNames.TryParse(state.ToWireName(), out var parsed));
            Assert.Equal(state, parsed);
        }
    }

    [Theory]
    [InlineData("healthy", HealthState.Healthy)]
    [InlineData("READY", HealthState.Healthy)]
    [InlineData("Alive", HealthState.Healthy)]
    [InlineData("ok", HealthState.Healthy)]
    [InlineData("up", HealthState.Healthy)]
    [InlineData(" degraded ", HealthState.Degraded)]
    [InlineData("UNHEALTHY", HealthState.Unhealthy)]
    [InlineData("Starting", HealthState.Starting)]
    [InlineData("draining", HealthState.Draining)]
    public void TryParse_KnownWordsAnyCase_MapToState(string text, HealthState expected)
    {
        Assert.True(HealthStateNames.TryParse(text, out var state));
        Assert.Equal(expected, state);
    }

    [Theory]
    [InlineData("")]
    [InlineData("healthyish")]
    [InlineData("maintenance")]
    [InlineData("1")]
    public void TryParse_UnknownWord_IsRejected(string text)
    {
        Assert.False(HealthStateNames.TryParse(text, out _));
    }
}
