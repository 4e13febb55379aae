using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// Failover across datacenters by request kind, end to end: a real gateway, the Consul simulator with a second
/// datacenter (<c>?dc=dc2</c>) and WireMock backends. Local instances: a, b (dc1); remote: r1, r2 (dc2).
/// </summary>
[Collection(Observability.SerialObservability.Name)]
public sealed class ConsulFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "failover-token";
    private readonly Dictionary<string, Backend> _backends = [];
    private ConsulSimulator _consul = null!;
    private SimulatedDatacenter _dc2 = null!;

    public async Task InitializeAsync()
    {
        _consul = await ConsulSimulator.StartAsync();
        _dc2 = _consul.AddDatacenter("dc2");
        Register(null, "a");
        Register(null, "b");
        Register(_dc2, "r1");
        Register(_dc2, "r2");
    }

    public async Task DisposeAsync()
    {
        await _consul.DisposeAsync();
        foreach (var backend in _backends.Values)
        {
            backend.Dispose();
        }
    }

    [Fact]
    public async Task LocalHealthy_ReadsAndWritesStayLocal_RemoteInstancesAreKnownButIdle()
    {
        await using var gateway = await StartAsync();
        await WaitForRemoteAsync(gateway);

        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 8), r => Assert.Contains(r, new[] { "a", "b" }));
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 8), r => Assert.Contains(r, new[] { "a", "b" }));
        Assert.Equal(0, _backends["r1"].Received("GET") + _backends["r1"].Received("POST") + _backends["r2"].Received("GET") + _backends["r2"].Received("POST"));
        var failover = (await DetailedAsync(gateway)).GetProperty("services").GetProperty("orders").GetProperty("failover");
        Assert.Equal([0, 1], failover.GetProperty("tiers").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(0, failover.GetProperty("reads").GetProperty("tier").GetInt32());
        Assert.Equal(0, failover.GetProperty("writes").GetProperty("tier").GetInt32());
    }

    [Fact]
    public async Task LocalOnlyDegraded_ReadsStayLocal_WritesGoToTheRemoteDatacenter()
    {
        await using var gateway = await StartAsync();
        await WaitForRemoteAsync(gateway);

        _consul.SetCheckStatus("check-a", "warning");
        _consul.SetCheckStatus("check-b", "warning");

        await Eventually.HoldsAsync(
            async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 6)).All(r => r is "r1" or "r2"), "writes went to dc2's healthy instances");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 8), r => Assert.Contains(r, new[] { "a", "b" }));
        var failover = (await DetailedAsync(gateway)).GetProperty("services").GetProperty("orders").GetProperty("failover");
        Assert.Equal(0, failover.GetProperty("reads").GetProperty("tier").GetInt32());
        Assert.Equal(1, failover.GetProperty("writes").GetProperty("tier").GetInt32());
        Assert.False(failover.GetProperty("writes").GetProperty("fallback").GetBoolean());
        Assert.True(failover.GetProperty("writes").TryGetProperty("since", out _));

        var scrape = (await gateway.Client.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(scrape, line => Series(line, "healthproxy_failover_active{", "request_kind=\"write\"", "tier=\"1\"") && line.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(scrape, line => Series(line, "healthproxy_failover_active{", "request_kind=\"write\"", "tier=\"0\"") && line.EndsWith(" 0", StringComparison.Ordinal));
        Assert.Contains(scrape, line => Series(line, "healthproxy_failover_active{", "request_kind=\"read\"", "tier=\"0\"") && line.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(scrape, line => Series(line, "healthproxy_failover_switches_total{", "request_kind=\"write\"", "tier=\"1\"") && line.EndsWith(" 1", StringComparison.Ordinal));
    }

    private static bool Series(string line, string name, params string[] labels) =>
        line.StartsWith(name, StringComparison.Ordinal) && line.Contains("cluster=\"orders\"", StringComparison.Ordinal) && labels.All(l => line.Contains(l, StringComparison.Ordinal));

    [Fact]
    public async Task LocalGone_BothKindsGoRemote_AndReturnOnlyAfterTheFailbackDelayWithoutARequest()
    {
        var delay = TimeSpan.FromSeconds(2);
        await using var gateway = await StartAsync(failbackDelay: "00:00:02");
        await WaitForRemoteAsync(gateway);
        var snapshots = new ConcurrentQueue<ClusterHealthChange>();
        gateway.App.Services.GetRequiredService<InstanceHealthStore>().Changed += change =>
        {
            if (change.ClusterId == "orders")
            {
                snapshots.Enqueue(change);
            }
        };

        _consul.SetCheckStatus("check-a", "critical");
        _consul.SetCheckStatus("check-b", "critical");
        await Eventually.HoldsAsync(
            async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 6)).All(r => r is "r1" or "r2"), "reads went to dc2");
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 6), r => Assert.Contains(r, new[] { "r1", "r2" }));

        _consul.SetCheckStatus("check-a", "passing");
        _consul.SetCheckStatus("check-b", "passing");
        var table = gateway.App.Services.GetRequiredService<RoutingTable>();
        // The store swaps the snapshot in before it tells its readers, so wait for the change as well as the table.
        await Eventually.HoldsAsync(
            () => table.TryGet("orders", out var routing) && routing.ServingTier(RequestKind.Write) == 0 && routing.ServingTier(RequestKind.Read) == 0
                && snapshots.Any(ReturnedWrites),
            "traffic returned to dc1 on the timer, no request sent",
            TimeSpan.FromSeconds(20));

        // The snapshot that first saw dc1 writable again kept dc2; the one that returned came from the timer, a delay later.
        var all = snapshots.ToArray();
        var down = Array.FindIndex(all, c => LocalHealthy(c) == 0);
        var firstBack = all.Skip(down).First(c => LocalHealthy(c) > 0);
        Assert.Equal(1, firstBack.Current!.ServingTier(RequestKind.Write));
        var returned = all.First(ReturnedWrites);
        Assert.Empty(returned.Transitions);
        var localEligibleAt = firstBack.Current.Selection(RequestKind.Write).EligibleSince[0]!.Value;
        Assert.True(returned.Current!.Selection(RequestKind.Write).Since - localEligibleAt >= delay);
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 6), r => Assert.Contains(r, new[] { "a", "b" }));
    }

    private static bool ReturnedWrites(ClusterHealthChange change) =>
        change.Current!.ServingTier(RequestKind.Write) == 0 && change.Previous is { } previous && previous.ServingTier(RequestKind.Write) == 1;

    private static int LocalHealthy(ClusterHealthChange change) =>
        change.Current!.Instances.Count(i => i.Key.StartsWith("sim-agent/", StringComparison.Ordinal) && i.Value.State == HealthState.Healthy);

    [Theory]
    [InlineData("dc2", SimulatorFault.MalformedJson)]
    [InlineData("dc2", SimulatorFault.MissingFields)]
    [InlineData("dc9", SimulatorFault.None)]
    public async Task RemoteDatacenterAnswersBadly_ItsTierIsIgnored_LocalUnaffected(string datacenter, SimulatorFault fault)
    {
        _dc2.Fault = fault;
        await using var gateway = await StartAsync(datacenters: datacenter);
        await Eventually.HoldsAsync(
            () => _consul.Requests.Count(r => r.Path == "/v1/health/service/orders" && r.Query.Contains($"dc={datacenter}", StringComparison.Ordinal)) >= 2,
            "the gateway asked the failover datacenter, twice");

        var table = gateway.App.Services.GetRequiredService<RoutingTable>();
        Assert.True(table.TryGet("orders", out var routing));
        Assert.Equal([0], routing.Tiers);
        Assert.Equal(["sim-agent/orders-a", "sim-agent/orders-b"], routing.All.Select(d => d.DestinationId).Order());
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 6), r => Assert.Contains(r, new[] { "a", "b" }));

        // Local gone: with no usable remote tier the fallback is the local instances, as without failover.
        _consul.SetCheckStatus("check-a", "critical");
        _consul.SetCheckStatus("check-b", "critical");
        await Eventually.HoldsAsync(
            () => table.TryGet("orders", out var now) && now.Healthy == 0, "dc1's instances are critical");
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 6), r => Assert.Contains(r, new[] { "a", "b" }));
        Assert.Equal(0, _backends["r1"].Received("POST") + _backends["r2"].Received("POST"));
    }

    /// <summary>
    /// Measures (and prints; a timed assertion is not how speed is guarded) how long a tier switch takes from Consul's
    /// answer to the new routing snapshot: node maintenance on dc1's node drains both local instances at once, so
    /// every change flips both kinds between dc1 and dc2 (failback delay 0, so the return is measured too).
    /// </summary>
    [Fact]
    public async Task LocalNodeInAndOutOfMaintenance_EverySwitchReachesTheRoutingTable_PrintsLatency()
    {
        const int Switches = 40;
        await using var gateway = await StartAsync(failbackDelay: "00:00:00");
        await WaitForRemoteAsync(gateway);
        var seen = new ConcurrentQueue<(long At, int Tier)>();
        gateway.App.Services.GetRequiredService<InstanceHealthStore>().Changed += change =>
        {
            if (change.Current is { } routing && change.ClusterId == "orders")
            {
                seen.Enqueue((Stopwatch.GetTimestamp(), routing.ServingTier(RequestKind.Write)));
            }
        };

        var latencies = new List<double>(Switches);
        for (var i = 0; i < Switches; i++)
        {
            var expected = i % 2 == 0 ? 1 : 0;
            seen.Clear();
            _consul.SetNodeMaintenance(_consul.AgentNode, enable: expected == 1, "failover measurement");
            var index = _consul.Index;
            await Eventually.HoldsAsync(() => seen.Any(s => s.Tier == expected), $"switch {i} to tier {expected} reached the routing table");
            await Eventually.HoldsAsync(() => LocalAnswers(index).Any(), $"switch {i} was answered");

            var answeredAt = LocalAnswers(index).Min(r => r.AnsweredAt);
            var appliedAt = seen.First(s => s.Tier == expected).At;
            latencies.Add(Stopwatch.GetElapsedTime(answeredAt, appliedAt).TotalMilliseconds);
        }

        latencies.Sort();
        output.WriteLine($"Consul answer -> tier switch, {Switches} switches: p50 {Percentile(latencies, 0.50):F2} ms, p99 {Percentile(latencies, 0.99):F2} ms, max {latencies[^1]:F2} ms");
        Assert.Equal(Switches, latencies.Count);
        Assert.All(latencies, l => Assert.True(l >= 0, "switched before Consul answered: the measurement is broken"));

        IEnumerable<SimulatorRequest> LocalAnswers(ulong index) =>
            _consul.Requests.Where(r => r.AnsweredIndex >= index && r.Path == "/v1/health/service/orders" && !r.Query.Contains("dc=", StringComparison.Ordinal));
    }

    /// <summary>
    /// Reads under steady load while the serving tier switches back and forth: none may fail, since a switch only
    /// changes where new requests go and the instances left keep answering those already sent.
    /// </summary>
    [Fact]
    public async Task ReadsUnderLoad_TierSwitchesBackAndForth_NoReadIsLost()
    {
        const int Switches = 10;
        await using var gateway = await StartAsync(failbackDelay: "00:00:00");
        await WaitForRemoteAsync(gateway);
        var table = gateway.App.Services.GetRequiredService<RoutingTable>();
        using var stop = new CancellationTokenSource();
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await gateway.Client.GetAsync("/items", CancellationToken.None);
                var key = response.IsSuccessStatusCode && response.Headers.TryGetValues("X-Served-By", out var by) ? by.First() : $"HTTP {(int)response.StatusCode}";
                outcomes.AddOrUpdate(key, 1, (_, n) => n + 1);
            }
        })).ToArray();

        for (var i = 0; i < Switches; i++)
        {
            var expected = i % 2 == 0 ? 1 : 0;
            _consul.SetNodeMaintenance(_consul.AgentNode, enable: expected == 1, "failover under load");
            await Eventually.HoldsAsync(() => table.TryGet("orders", out var routing) && routing.ServingTier(RequestKind.Read) == expected, $"switch {i} to tier {expected}");
            var served = outcomes.Values.Sum();
            await Eventually.HoldsAsync(() => outcomes.Values.Sum() >= served + 20, $"reads kept flowing after switch {i}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);
        output.WriteLine($"Reads during {Switches} tier switches: {string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"))}");
        Assert.All(outcomes.Keys, key => Assert.Contains(key, new[] { "a", "b", "r1", "r2" }));
        Assert.True(outcomes.Keys.Intersect(["r1", "r2"]).Any() && outcomes.Keys.Intersect(["a", "b"]).Any(), "both tiers served reads");
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private async Task<GatewayHost> StartAsync(string datacenters = "dc2", string failbackDelay = "00:00:30")
    {
        var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
            ["HealthProxy:Discovery:Wait"] = "00:00:02",
            ["HealthProxy:Discovery:RetryMaxDelay"] = "00:00:01",
            ["HealthProxy:Security:DetailedToken"] = Token,
            ["ReverseProxy:Routes:all:ClusterId"] = "orders",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:orders:Metadata:consul.service"] = "orders",
            ["ReverseProxy:Clusters:orders:Metadata:consul.failover.datacenters"] = datacenters,
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.FailbackDelay"] = failbackDelay,
        });
        await gateway.WaitStartedAsync();
        return gateway;
    }

    /// <summary>Waits until the cluster routes with dc2's instances as its tier 1.</summary>
    private static async Task WaitForRemoteAsync(GatewayHost gateway)
    {
        var table = gateway.App.Services.GetRequiredService<RoutingTable>();
        await Eventually.HoldsAsync(
            () => table.TryGet("orders", out var routing) && routing.Tiers.SequenceEqual([0, 1])
                && routing.All.Select(d => d.DestinationId).Order().SequenceEqual(["dc2/dc2-agent/orders-r1", "dc2/dc2-agent/orders-r2", "sim-agent/orders-a", "sim-agent/orders-b"]),
            "dc2's instances joined as tier 1");
    }

    private static async Task<JsonElement> DetailedAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/detailed");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await gateway.Client.SendAsync(request);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private void Register(SimulatedDatacenter? datacenter, string name, string status = "passing")
    {
        var backend = Backend.Start(name);
        _backends[name] = backend;
        var service = new SimulatedService
        {
            Name = "orders",
            ID = "orders-" + name,
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-" + name, Status = status }],
        };
        if (datacenter is null)
        {
            _consul.RegisterService(service);
        }
        else
        {
            datacenter.RegisterService(service);
        }
    }
}
