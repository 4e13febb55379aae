using HealthProxy.Consul.Discovery;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Discovery;

/// <summary>The watch's index, emission and retry rules against a scripted client on a fake clock: no network, no timing.</summary>
public sealed class ConsulServiceWatchScriptedTests
{
    private static ConsulServiceWatchOptions Options => new()
    {
        ServiceName = "web",
        Wait = TimeSpan.FromMinutes(2),
        RateLimitInterval = TimeSpan.Zero,
        RetryBaseDelay = TimeSpan.FromSeconds(1),
        RetryMaxDelay = TimeSpan.FromSeconds(8),
    };

    [Fact]
    public async Task Run_ScriptedAnswers_FollowsIndexRulesAndEmitsOnlyOnChangeOrForwardIndex()
    {
        var clock = new FakeTimeProvider();
        var client = new ScriptedConsulClient();
        client.Answer(10, ScriptedConsulClient.Entry("a", "passing"));
        client.Answer(10, ScriptedConsulClient.Entry("a", "passing"));
        client.Answer(12, ScriptedConsulClient.Entry("a", "passing"));
        client.Answer(5, ScriptedConsulClient.Entry("a", "passing"));
        client.Answer(6, ScriptedConsulClient.Entry("a", "warning"));
        await using var watch = new ConsulServiceWatch(client, Options, clock);

        watch.Start();
        await Eventually.HoldsAsync(() => client.Queries.Count == 6, "the script ran out and the watch blocks");

        Assert.Equal([0UL, 10, 10, 12, 0, 6], client.Queries.Select(q => q.Index));
        Assert.All(client.Queries, q => Assert.Equal(TimeSpan.FromMinutes(2), q.Wait));
        Assert.True(watch.Snapshots.TryRead(out var first));
        Assert.True(watch.Snapshots.TryRead(out var forward));
        Assert.True(watch.Snapshots.TryRead(out var changed));
        Assert.False(watch.Snapshots.TryRead(out _));
        Assert.Equal((10UL, HealthState.Healthy), (first!.Index, first.Instances.Single().State));
        Assert.Equal(12UL, forward!.Index);
        Assert.Equal((6UL, HealthState.Degraded), (changed!.Index, changed.Instances.Single().State));
        Assert.Same(changed, watch.Current);
    }

    [Fact]
    public async Task Run_Failure_KeepsSnapshotReportsKindAndRetriesAfterBackoffFromIndexZero()
    {
        var clock = new FakeTimeProvider();
        var client = new ScriptedConsulClient();
        client.Answer(10, ScriptedConsulClient.Entry("a", "passing"));
        client.Fail(ConsulErrorKind.AccessDenied);
        await using var watch = new ConsulServiceWatch(client, Options, clock);

        watch.Start();
        await Eventually.HoldsAsync(() => watch.Status is { IsReachable: false, ConsecutiveFailures: 1 }, "the failure is reported");

        Assert.Equal(ConsulErrorKind.AccessDenied, watch.Status.LastErrorKind);
        Assert.Equal(clock.GetUtcNow(), watch.Status.LastFailure);
        Assert.Equal(10UL, watch.Current!.Index);
        Assert.Equal(2, client.Queries.Count);

        client.Answer(10, ScriptedConsulClient.Entry("a", "passing"));
        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => watch.Status.IsReachable, "the retry after the backoff succeeds");

        Assert.Equal(0UL, client.Queries.ElementAt(2).Index);
        Assert.Equal(ConsulErrorKind.AccessDenied, watch.Status.LastErrorKind);
        Assert.Equal(0, watch.Status.ConsecutiveFailures);
        Assert.True(watch.Snapshots.TryRead(out _));
        Assert.False(watch.Snapshots.TryRead(out _), "the same data after recovery is not a new snapshot");
    }

    [Fact]
    public async Task Run_RepeatedFailures_BackOffExponentiallyOnTheClock()
    {
        var clock = new FakeTimeProvider();
        var client = new ScriptedConsulClient();
        client.Fail(ConsulErrorKind.Unreachable);
        client.Fail(ConsulErrorKind.Unreachable);
        client.Fail(ConsulErrorKind.Unreachable);
        await using var watch = new ConsulServiceWatch(client, Options, clock);

        watch.Start();
        await Eventually.HoldsAsync(() => watch.Status.ConsecutiveFailures == 1, "the first failure");
        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => watch.Status.ConsecutiveFailures == 2, "the second failure after at most 1s");
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(2, client.Queries.Count);
        clock.Advance(TimeSpan.FromMilliseconds(1100));
        await Eventually.HoldsAsync(() => watch.Status.ConsecutiveFailures == 3, "the third failure after at most 2s");

        Assert.Null(watch.Current);
        Assert.Null(watch.Status.LastSuccess);
    }

    [Fact]
    public async Task StopAsync_CompletesTheChannels()
    {
        var client = new ScriptedConsulClient();
        var watch = new ConsulServiceWatch(client, Options, new FakeTimeProvider());
        watch.Start();
        await Eventually.HoldsAsync(() => !client.Queries.IsEmpty, "the first query is in flight");

        await watch.DisposeAsync();

        Assert.True(watch.Snapshots.Completion.IsCompleted);
        Assert.True(watch.StatusChanges.Completion.IsCompleted);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throw()
    {
        Assert.Throws<ArgumentException>(() => new ConsulServiceWatch(new ScriptedConsulClient(), Options with { Wait = TimeSpan.FromMinutes(11) }));
        Assert.Throws<ArgumentException>(() => new ConsulServiceWatch(new ScriptedConsulClient(), Options with { ServiceName = " " }));
    }
}
