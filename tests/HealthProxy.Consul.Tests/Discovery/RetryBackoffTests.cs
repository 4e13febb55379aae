using HealthProxy.Consul.Discovery;

namespace HealthProxy.Consul.Tests.Discovery;

public sealed class RetryBackoffTests
{
    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 1.0, 1000)]
    [InlineData(2, 0.0, 1000)]
    [InlineData(3, 1.0, 4000)]
    [InlineData(10, 0.0, 15000)]
    [InlineData(10, 1.0, 30000)]
    [InlineData(1000, 1.0, 30000)]
    public void Delay_DoublesPerFailureWithEqualJitterUpToTheCap(int failures, double random, int expectedMilliseconds)
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), () => random);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), backoff.Delay(failures));
    }

    [Fact]
    public void Delay_RealRandom_StaysWithinHalfAndFullOfTheCeiling()
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

        for (var i = 0; i < 100; i++)
        {
            var delay = backoff.Delay(3);
            Assert.InRange(delay, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
        }
    }
}
