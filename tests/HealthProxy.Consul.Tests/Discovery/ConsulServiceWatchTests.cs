using System.Diagnostics;
using HealthProxy.Consul.Discovery;
using HealthProxy.Consul.Simulator;
using HealthProxy.Health;
using HealthProxy.Testing;
using Xunit.Abstractions;

namespace HealthProxy.Consul.Tests.Discovery;

/// <summary>The watch end to end against the simulator over real sockets.</summary>
public sealed class ConsulServiceWatchTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ConsulSimulator _simulator = null!;

    public async Task InitializeAsync() => _simulator = await ConsulSimulator.StartAsync();

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    private ConsulServiceWatch Watch(TimeSpan? wait = null) => new(
        TestClients.For(_simulator.Address),
        new ConsulServiceWatchOptions
        {
            ServiceName = "web",
            Wait = wait ?? TimeSpan.FromMinutes(5),
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        });

    private static async Task<(ConsulServiceSnapshot Snapshot, long ReadAt)> NextAsync(ConsulServiceWatch watch)
    {
        var snapshot = await watch.Snapshots.ReadAsync().AsTask().WaitAsync(Eventually.DefaultTimeout);
        return (snapshot, Stopwatch.GetTimestamp());
    }

    private void RegisterWeb(string id = "web-1", string node = "node-a", string status = "passing") => _simulator.RegisterService(new SimulatedService
    {
        Node = node,
        NodeAddress = "10.0.0.1",
        Name = "web",
        ID = id,
        Port = 8080,
        Meta = new Dictionary<string, string> { ["category"] = "frontend" },
        Checks = [new SimulatedCheck { CheckID = id + "-ttl", Status = status }],
    });

    private async Task<TimeSpan> LatencyAsync(ConsulServiceSnapshot snapshot, long readAt)
    {
        SimulatorRequest? answer = null;
        await Eventually.HoldsAsync(
            () => (answer = _simulator.Requests.LastOrDefault(r => r.AnsweredIndex == snapshot.Index && r.Path == "/v1/health/service/web" && r.AnsweredAt <= readAt)) is not null,
            "the simulator recorded the answer");
        return Stopwatch.GetElapsedTime(answer!.AnsweredAt, readAt);
    }

    [Fact]
    public async Task Watch_InstanceLifecycle_EmitsEachChangeAsItHappens()
    {
        await using var watch = Watch();
        var latencies = new List<TimeSpan>();
        watch.Start();

        async Task<ConsulServiceSnapshot> Step(Action change)
        {
            change();
            var (snapshot, readAt) = await NextAsync(watch);
            latencies.Add(await LatencyAsync(snapshot, readAt));
            return snapshot;
        }

        var empty = await Step(() => { });
        Assert.Empty(empty.Instances);

        var appeared = await Step(() => RegisterWeb());
        var instance = Assert.Single(appeared.Instances);
        Assert.Equal(("node-a/web-1", "10.0.0.1", 8080, "frontend", HealthState.Healthy), (instance.Id, instance.Address, instance.Port, instance.Category, instance.State));

        Assert.Equal(HealthState.Degraded, (await Step(() => _simulator.SetCheckStatus("web-1-ttl", "warning", node: "node-a"))).Instances.Single().State);
        Assert.Equal(HealthState.Unhealthy, (await Step(() => _simulator.SetCheckStatus("web-1-ttl", "critical", node: "node-a"))).Instances.Single().State);
        Assert.Equal(HealthState.Starting, (await Step(() => _simulator.SetCheckStatus("web-1-ttl", "passing", """{"status":"starting"}""", node: "node-a"))).Instances.Single().State);
        Assert.Equal(HealthState.Draining, (await Step(() => _simulator.SetServiceMaintenance("web-1", enable: true, "deploy", node: "node-a"))).Instances.Single().State);
        Assert.Equal(HealthState.Starting, (await Step(() => _simulator.SetServiceMaintenance("web-1", enable: false, node: "node-a"))).Instances.Single().State);
        Assert.Equal(HealthState.Draining, (await Step(() => _simulator.SetNodeMaintenance("node-a", enable: true))).Instances.Single().State);
        var gone = await Step(() => _simulator.DeregisterService("web-1", node: "node-a"));

        Assert.Empty(gone.Instances);
        Assert.False(watch.Snapshots.TryRead(out _));
        Assert.All(_simulator.Requests.Where(r => r.Path.StartsWith("/v1/health/service", StringComparison.Ordinal)), r => Assert.DoesNotContain("passing", r.Query, StringComparison.Ordinal));
        var sorted = latencies.Order().ToList();
        output.WriteLine($"answer -> emission latency over {sorted.Count} changes: min {sorted[0].TotalMilliseconds:F2} ms, median {sorted[sorted.Count / 2].TotalMilliseconds:F2} ms, max {sorted[^1].TotalMilliseconds:F2} ms");
    }

    [Fact]
    public async Task Watch_ManyNodes_OneInstancePerNodeAndService()
    {
        for (var i = 0; i < 20; i++)
        {
            RegisterWeb(id: "web", node: $"node-{i:D2}");
        }

        await using var watch = Watch();
        watch.Start();
        var (snapshot, _) = await NextAsync(watch);

        Assert.Equal(20, snapshot.Instances.Count);
        Assert.Equal("node-00/web", snapshot.Instances[0].Id);
    }

    [Fact]
    public async Task Watch_IndexGoesBackwards_ResetsToZeroAndKeepsFollowingChanges()
    {
        RegisterWeb();
        await using var watch = Watch(wait: TimeSpan.FromSeconds(1));
        watch.Start();
        var (first, _) = await NextAsync(watch);
        Assert.True(first.Index > 3);

        _simulator.RewindIndex(3);
        await Eventually.HoldsAsync(
            () => _simulator.Requests.Any(r => r.AnsweredIndex == 3 && !r.Query.Contains("index=", StringComparison.Ordinal)),
            "the watch re-synced with an index-0 query after seeing the lower index");
        await Eventually.HoldsAsync(() => watch.Status.Index == 3, "the watch now blocks on the lower index");
        _simulator.SetCheckStatus("web-1-ttl", "warning", node: "node-a");
        var (changed, _) = await NextAsync(watch);

        Assert.Equal(4UL, changed.Index);
        Assert.Equal(HealthState.Degraded, changed.Instances.Single().State);
    }

    [Fact]
    public async Task Watch_ConsulStoppedMidWatch_ReportsUnreachableKeepsSnapshotAndRecovers()
    {
        RegisterWeb();
        await using var watch = Watch();
        watch.Start();
        var (before, _) = await NextAsync(watch);
        var lastSuccess = watch.Status.LastSuccess;

        await _simulator.StopAsync();
        await Eventually.HoldsAsync(() => watch.Status is { IsReachable: false, LastErrorKind: ConsulErrorKind.Unreachable }, "the watch reports Consul unreachable");
        Assert.Same(before, watch.Current);
        Assert.Equal(lastSuccess, watch.Status.LastSuccess);
        _simulator.SetCheckStatus("web-1-ttl", "warning", node: "node-a");
        await _simulator.RestartAsync();
        var (after, _) = await NextAsync(watch);

        Assert.Equal(HealthState.Degraded, after.Instances.Single().State);
        Assert.True(watch.Status.IsReachable);
        Assert.True(watch.Status.LastSuccess > lastSuccess);
        Assert.Equal(ConsulErrorKind.Unreachable, watch.Status.LastErrorKind);
        var changes = new List<ConsulWatchStatus>();
        while (watch.StatusChanges.TryRead(out var status))
        {
            changes.Add(status);
        }

        Assert.Contains(changes, s => s is { IsReachable: false, LastErrorKind: ConsulErrorKind.Unreachable });
    }

    [Theory]
    [InlineData(SimulatorFault.MalformedJson, ConsulErrorKind.MalformedResponse)]
    [InlineData(SimulatorFault.MissingFields, ConsulErrorKind.MalformedResponse)]
    [InlineData(SimulatorFault.OversizedBody, ConsulErrorKind.ResponseTooLarge)]
    [InlineData(SimulatorFault.Forbidden, ConsulErrorKind.AccessDenied)]
    [InlineData(SimulatorFault.InternalError, ConsulErrorKind.HttpError)]
    public async Task Watch_BadAnswer_NeverBecomesASnapshot(SimulatorFault fault, ConsulErrorKind expected)
    {
        RegisterWeb();
        await using var watch = Watch();
        watch.Start();
        await NextAsync(watch);
        await Eventually.HoldsAsync(() => _simulator.BlockedQueries == 1, "the watch is parked in a blocking query");

        // The parked query already passed the fault check, so the change still arrives; the next query meets the fault.
        _simulator.Fault = fault;
        _simulator.SetCheckStatus("web-1-ttl", "warning", node: "node-a");
        var (good, _) = await NextAsync(watch);
        await Eventually.HoldsAsync(() => watch.Status is { IsReachable: false } && watch.Status.LastErrorKind == expected, $"the watch reports {expected}");

        Assert.Same(good, watch.Current);
        Assert.False(watch.Snapshots.TryRead(out _));
        _simulator.Fault = SimulatorFault.None;
        await Eventually.HoldsAsync(() => watch.Status.IsReachable, "the watch recovers once Consul answers well");
        Assert.Same(good, watch.Current);
    }
}
