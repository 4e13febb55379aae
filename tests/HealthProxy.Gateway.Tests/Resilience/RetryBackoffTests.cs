using HealthProxy.Gateway.Resilience;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan Max = TimeSpan.FromMilliseconds(250);

    [Theory]
    [InlineData(1, 25)]
    [InlineData(2, 50)]
    [InlineData(3, 100)]
    [InlineData(4, 200)]
    [InlineData(5, 250)]
    [InlineData(10, 250)]
    [InlineData(1000, 250)]
    public void Delay_EveryDraw_BetweenZeroAndTheDoublingCeilingCappedAtMax(int retry, int ceilingMs)
    {
        var ceiling = TimeSpan.FromMilliseconds(ceilingMs);
        for (var i = 0; i <= 100; i++)
        {
            var delay = RetryBackoff.Delay(retry, Base, Max, i / 101.0);

            Assert.InRange(delay, TimeSpan.Zero, ceiling);
        }

        // The top of the draw reaches the ceiling: the cap is the bound, not a smaller one.
        Assert.True(RetryBackoff.Delay(retry, Base, Max, 0.999999) > ceiling * 0.999, $"retry {retry} reaches {ceiling}");
    }

    [Fact]
    public void Delay_Draws_SpreadOverTheWholeRange()
    {
        var delays = Enumerable.Range(0, 1000).Select(_ => RetryBackoff.Delay(1, Base, Max, Random.Shared.NextDouble())).ToList();

        Assert.Contains(delays, d => d < TimeSpan.FromMilliseconds(5));
        Assert.Contains(delays, d => d > TimeSpan.FromMilliseconds(20));
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, Base));
    }

    [Fact]
    public void Delay_NoBase_NoWait() =>
        Assert.Equal(TimeSpan.Zero, RetryBackoff.Delay(3, TimeSpan.Zero, Max, 0.9));
}
