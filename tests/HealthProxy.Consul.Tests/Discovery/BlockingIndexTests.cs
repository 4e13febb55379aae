using HealthProxy.Consul.Discovery;

namespace HealthProxy.Consul.Tests.Discovery;

public sealed class BlockingIndexTests
{
    [Theory]
    [InlineData(0UL, 57UL, 57UL, false)]
    [InlineData(57UL, 57UL, 57UL, false)]
    [InlineData(57UL, 90UL, 90UL, false)]
    [InlineData(0UL, 0UL, 1UL, false)]
    [InlineData(57UL, 5UL, 0UL, true)]
    [InlineData(1UL, 0UL, 0UL, true)]
    public void Next_FollowsConsulsIndexRules(ulong previous, ulong answered, ulong expected, bool expectedBackwards)
    {
        var next = BlockingIndex.Next(previous, answered, out var backwards);

        Assert.Equal(expected, next);
        Assert.Equal(expectedBackwards, backwards);
    }
}
