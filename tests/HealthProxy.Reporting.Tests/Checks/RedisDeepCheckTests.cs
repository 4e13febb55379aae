using System.Diagnostics;
using HealthProxy.Reporting.Checks;
using HealthProxy.Reporting.Tests.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace HealthProxy.Reporting.Tests.Checks;

[Collection(ExternalServers.Name)]
public sealed class RedisDeepCheckTests(ExternalServersFixture servers)
{
    [Fact]
    public async Task CheckHealth_ServerUp_HealthyAndLeavesNoKeyBehind()
    {
        await using var redis = await servers.Redis.ConnectAsync();
        await using var services = ServiceChecks.Build((checks, _) => checks.AddRedisDeepCheck(connection: _ => redis));

        var result = await ServiceChecks.RunAsync(services, "redis");

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Empty(redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: "healthproxy:health:*"));
    }

    [Fact]
    public async Task CheckHealth_ReadOnlyReplica_Fails()
    {
        await using var replica = await RedisServer.StartAsync(readOnlyReplica: true);
        await using var redis = await replica.ConnectAsync();
        Assert.Equal("+PONG", await replica.SendAsync("PING"));
        await using var services = ServiceChecks.Build((checks, _) => checks.AddRedisDeepCheck(connection: _ => redis));

        var result = await ServiceChecks.RunAsync(services, "redis");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
    }

    [Fact]
    public async Task CheckHealth_FlushBetweenWriteAndRead_Fails()
    {
        await using var redis = await servers.Redis.ConnectAsync();
        await using var services = ServiceChecks.Build((checks, s) =>
        {
            checks.AddRedisDeepCheck(connection: _ => redis);
            s.AddSingleton<IRedisProbeFault>(new Fault((_, _) => servers.Redis.SendAsync("FLUSHDB")));
        });

        var result = await ServiceChecks.RunAsync(services, "redis");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The value written was gone when read back.", result.Description);
    }

    [Fact]
    public async Task CheckHealth_ValueChangedBetweenWriteAndRead_Fails()
    {
        await using var redis = await servers.Redis.ConnectAsync();
        await using var services = ServiceChecks.Build((checks, s) =>
        {
            checks.AddRedisDeepCheck(connection: _ => redis);
            s.AddSingleton<IRedisProbeFault>(new Fault((db, key) => db.StringSetAsync(key, "stale")));
        });

        var result = await ServiceChecks.RunAsync(services, "redis");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The value read back differs from the one written.", result.Description);
    }

    [Fact]
    public async Task CheckHealth_ServerStopped_FailsWithoutExceptionText()
    {
        var stopped = await RedisServer.StartAsync();
        await using var redis = await stopped.ConnectAsync();
        await stopped.DisposeAsync();
        await using var services = ServiceChecks.Build((checks, _) =>
            checks.AddRedisDeepCheck(connection: _ => redis, configure: o => o.Timeout = TimeSpan.FromMilliseconds(500)));

        var result = await ServiceChecks.RunAsync(services, "redis");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
        Assert.DoesNotContain("Redis", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealth_ServerPausedLongerThanTimeout_FailsWithinTheTimeout()
    {
        await using var paused = await RedisServer.StartAsync();
        await using var redis = await paused.ConnectAsync();
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var services = ServiceChecks.Build((checks, _) =>
            checks.AddRedisDeepCheck(connection: _ => redis, configure: o => o.Timeout = timeout));
        Assert.Equal("+OK", await paused.SendAsync("CLIENT", "PAUSE", "10000", "ALL"));

        var clock = Stopwatch.StartNew();
        var result = await ServiceChecks.RunAsync(services, "redis");
        clock.Stop();

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("Timed out after 300 ms.", result.Description);
        // The client's own 5 s timeout must not be what ends it; allow slack for slow CI machines.
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(50), timeout + TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task CheckHealth_CallerCancels_CancellationPropagates()
    {
        await using var paused = await RedisServer.StartAsync();
        await using var redis = await paused.ConnectAsync();
        await using var services = ServiceChecks.Build((checks, _) =>
            checks.AddRedisDeepCheck(connection: _ => redis, configure: o => o.Timeout = TimeSpan.FromSeconds(30)));
        Assert.Equal("+OK", await paused.SendAsync("CLIENT", "PAUSE", "10000", "ALL"));
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ServiceChecks.RunAsync(services, "redis", caller.Token));
    }

    private sealed class Fault(Func<IDatabase, RedisKey, Task> afterWrite) : IRedisProbeFault
    {
        public Task AfterWriteAsync(IDatabase database, RedisKey key) => afterWrite(database, key);
    }
}
