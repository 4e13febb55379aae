using HealthProxy.Reporting.Publishing;

namespace HealthProxy.Reporting.Tests.Publishing;

public sealed class PublishingScheduleTests
{
    private readonly ConsulPublishingOptions _options = new()
    {
        Ttl = TimeSpan.FromSeconds(15),
        Jitter = 0.1,
        RetryDelay = TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromSeconds(30),
    };

    [Theory]
    [InlineData(0.0, 4.5)]
    [InlineData(0.5, 5.0)]
    [InlineData(0.999999, 5.5)]
    public void NextUpdate_ThirdOfTtlPlusOrMinusJitter(double random, double expectedSeconds)
    {
        var schedule = new PublishingSchedule(_options, () => random);

        Assert.Equal(expectedSeconds, schedule.NextUpdate().TotalSeconds, precision: 3);
    }

    [Theory]
    [InlineData(1, 0.5, 1.0)]
    [InlineData(2, 1.0, 2.0)]
    [InlineData(4, 4.0, 8.0)]
    [InlineData(6, 15.0, 30.0)]
    [InlineData(100, 15.0, 30.0)]
    public void NextRetry_DoublesUpToTheCap_HalfFixedHalfRandom(int failures, double lowestSeconds, double highestSeconds)
    {
        var lowest = new PublishingSchedule(_options, () => 0).NextRetry(failures);
        var highest = new PublishingSchedule(_options, () => 1).NextRetry(failures);

        Assert.Equal((lowestSeconds, highestSeconds), (lowest.TotalSeconds, highest.TotalSeconds));
    }
}
