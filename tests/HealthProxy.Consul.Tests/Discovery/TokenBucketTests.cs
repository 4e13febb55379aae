using HealthProxy.Consul.Discovery;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Discovery;

public sealed class TokenBucketTests
{
    [Fact]
    public async Task TakeAsync_BurstSpent_WaitsForTheNextTokenOnTheClock()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(2, TimeSpan.FromSeconds(1), clock);

        await bucket.TakeAsync(CancellationToken.None);
        await bucket.TakeAsync(CancellationToken.None);
        var third = bucket.TakeAsync(CancellationToken.None).AsTask();

        Assert.False(third.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(third.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await third.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TakeAsync_AfterALongPause_AllowsOnlyTheBurst()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(2, TimeSpan.FromSeconds(1), clock);
        clock.Advance(TimeSpan.FromHours(1));

        await bucket.TakeAsync(CancellationToken.None);
        await bucket.TakeAsync(CancellationToken.None);

        Assert.False(bucket.TakeAsync(CancellationToken.None).AsTask().IsCompleted);
    }
}
