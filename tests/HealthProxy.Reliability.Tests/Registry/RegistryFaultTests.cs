using static System.FormattableString;
using System.Diagnostics;
using System.Globalization;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;
using Yarp.ReverseProxy;

namespace HealthProxy.Reliability.Tests.Registry;

/// <summary>
/// Issue 10, section 2: Consul (the simulator) breaks while the gateway carries steady reads and writes
/// to three instances it discovered there, which its own probes also watch. During the fault one
/// instance dies; after it, a new instance is registered. Nothing may fail for the client.
/// </summary>
public sealed class RegistryFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Cluster = "orders";

    // Blocking queries wait longer than StaleAfter, the shape of the defaults (5 min and 30 s).
    private static readonly TimeSpan Wait = ReliabilityMode.Pick(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
    private static readonly TimeSpan StaleAfter = ReliabilityMode.Pick(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
    private static readonly TimeSpan FaultFor = ReliabilityMode.Pick(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(60));
    private static readonly TimeSpan SlowBy = ReliabilityMode.Pick(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20));
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, Backend> _backends = new(StringComparer.Ordinal);
    private ConsulSimulator _consul = null!;

    public async Task InitializeAsync() => _consul = await ConsulSimulator.StartAsync();

    public async Task DisposeAsync()
    {
        await _consul.DisposeAsync();
        foreach (var backend in _backends.Values)
        {
            backend.Dispose();
        }
    }

    [Theory]
    [InlineData(RegistryFault.Down)]
    [InlineData(RegistryFault.Slow)]
    [InlineData(RegistryFault.GarbageJson)]
    [InlineData(RegistryFault.IndexBackwards)]
    [InlineData(RegistryFault.OversizedBody)]
    [InlineData(RegistryFault.AclForbidden)]
    public async Task RegistryFault_UnderLoad_RoutesOnLastGoodSnapshotWithProbes_AndRecovers(RegistryFault fault)
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            Register(name);
        }

        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();
        await Eventually.HoldsAsync(() => RoutedPorts(gateway).SetEquals(Ports("a", "b", "c")), "YARP routes the three instances Consul lists");
        var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();
        var killedId = DestinationId(gateway, "c");

        await using var load = new MixedLoad(gateway.Client, workers: 4, pace: TimeSpan.FromMilliseconds(25));
        await Eventually.HoldsAsync(() => load.Requests >= 40, "the load is running");
        var problems = new List<string>();

        // The fault, with an instance dying under it.
        var faultClock = Stopwatch.StartNew();
        await ApplyAsync(fault);
        var killedAt = Stopwatch.GetTimestamp();
        _backends["c"].Dispose();
        var watch = new FaultWatch();
        while (faultClock.Elapsed < FaultFor)
        {
            await watch.SampleAsync(gateway, store, killedId, Ports("a", "b", "c"), faultClock.Elapsed);
        }

        // What the gateway must have shown by now (or shortly after: the machine is loaded).
        if (!await TryHoldsAsync(async () => await watch.SampleAsync(gateway, store, killedId, Ports("a", "b", "c"), faultClock.Elapsed) && watch.Ejected is not null, TimeSpan.FromSeconds(15)))
        {
            problems.Add("the dead instance was never taken out");
        }

        var expectStale = fault is not (RegistryFault.Slow or RegistryFault.IndexBackwards);
        if (expectStale && !await TryHoldsAsync(async () => await watch.SampleAsync(gateway, store, killedId, Ports("a", "b", "c"), faultClock.Elapsed) && watch.SawStaleSignals, TimeSpan.FromSeconds(15)))
        {
            problems.Add($"readiness/metrics never said stale (readiness seen: {string.Join(", ", watch.Readiness)})");
        }

        if (fault == RegistryFault.IndexBackwards && !await TryHoldsAsync(() => Task.FromResult(SawIndexGoBackwards()), Wait + TimeSpan.FromSeconds(10)))
        {
            problems.Add("Consul never answered the gateway with a lower index");
        }

        var faultRequests = load.Requests;

        // The fault clears; a change made in Consul after it must reach routing.
        await ClearAsync(fault);
        var recoveryClock = Stopwatch.StartNew();
        Register("d");
        TimeSpan? routedNew = await TryHoldsAsync(() => Task.FromResult(load.ServedBy("d") > 0), Recovery) ? recoveryClock.Elapsed : null;
        TimeSpan? readyAgain = await TryHoldsAsync(async () => await watch.SampleAsync(gateway, store, killedId, Ports("a", "b", "c", "d"), null) && watch.ReadyAndReachable, Recovery) ? recoveryClock.Elapsed : null;
        await load.StopAsync();

        if (routedNew is null)
        {
            problems.Add("the instance registered after the fault never got traffic");
        }

        if (readyAgain is null)
        {
            problems.Add($"readiness/metrics never recovered (last: {watch.Readiness.LastOrDefault()}, reachable {watch.LastReachable})");
        }

        if (watch.Replaced is { } replaced)
        {
            problems.Add("the instance set changed during the fault: " + replaced);
        }

        if (watch.NotReady is { } notReady)
        {
            problems.Add("readiness failed during the fault: " + notReady);
        }

        if (fault == RegistryFault.IndexBackwards && watch.Readiness.Contains("200 degraded"))
        {
            problems.Add("a Consul that answers (with a lower index) was reported stale");
        }

        var live = await gateway.Client.GetAsync("/health/live");
        var stopping = gateway.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;
        if (!live.IsSuccessStatusCode || stopping)
        {
            problems.Add("the gateway is no longer alive");
        }

        // A write in flight on the instance as it dies cannot be retried safely (it may have been applied):
        // a 502 for a write between the death and the instance leaving routing is the death's, not the
        // registry's, provided the retry budget was never what refused a retry. Anything else counts.
        // (Ejected counts from just before the kill, so the window errs long by the fault's setup.)
        var ejectedAt = killedAt + (long)((watch.Ejected ?? TimeSpan.Zero).TotalSeconds * Stopwatch.Frequency) + Stopwatch.Frequency;
        var budgetRefusals = GatewaySignals.Sum(await GatewaySignals.ScrapeAsync(gateway.Client), "healthproxy_retries_budget_exhausted_total");
        var cutByDeath = budgetRefusals > 0 ? [] : load.FailureLog.Where(f => f.Write && f.Status == 502 && f.Timestamp >= killedAt && f.Timestamp <= ejectedAt).ToList();
        var unexpected = load.Failures - cutByDeath.Count;
        if (unexpected > 0)
        {
            problems.Add("client failures: " + string.Join("; ", load.FailureSamples));
        }

        var details = Invariant($"fault {FaultFor.TotalSeconds:0}s; dead instance out after {Seconds(watch.Ejected)}, writes cut in flight by its death {cutByDeath.Count}, retry budget refusals {budgetRefusals}; readiness seen {string.Join("/", watch.Readiness)}; ") +
            Invariant($"stale signal after {Seconds(watch.StaleSeen)}; requests during fault {faultRequests}; after clear: new instance routed in {Seconds(routedNew)}, ready+reachable in {Seconds(readyAgain)}") +
            (problems.Count > 0 ? "; PROBLEMS: " + string.Join("; ", problems) : "");
        ScenarioTable.Report(output, new ScenarioResult("registry", Describe(fault), load.Requests, unexpected, problems.Count == 0, details));
    }

    private static string Describe(RegistryFault fault) => fault switch
    {
        RegistryFault.Down => $"Consul down {FaultFor.TotalSeconds:0}s",
        RegistryFault.Slow => $"Consul slow (answers after {SlowBy.TotalSeconds:0}s)",
        RegistryFault.GarbageJson => "Consul answers garbage JSON",
        RegistryFault.IndexBackwards => "Consul index goes backwards",
        RegistryFault.OversizedBody => "Consul answers 10 MB",
        RegistryFault.AclForbidden => "Consul ACL flips to 403",
        _ => fault.ToString(),
    };

    private static string Seconds(TimeSpan? time) => time is { } t ? t.TotalSeconds.ToString("0.0s", CultureInfo.InvariantCulture) : "never";

    private async Task ApplyAsync(RegistryFault fault)
    {
        switch (fault)
        {
            case RegistryFault.Down:
                await _consul.StopAsync();
                break;
            case RegistryFault.Slow:
                _consul.ResponseDelay = SlowBy;
                break;
            case RegistryFault.GarbageJson:
                _consul.Fault = SimulatorFault.MalformedJson;
                break;
            case RegistryFault.IndexBackwards:
                _consul.RewindIndex(1);
                break;
            case RegistryFault.OversizedBody:
                _consul.Fault = SimulatorFault.OversizedBody;
                break;
            case RegistryFault.AclForbidden:
                _consul.Fault = SimulatorFault.Forbidden;
                break;
        }
    }

    private async Task ClearAsync(RegistryFault fault)
    {
        if (fault == RegistryFault.Down)
        {
            await _consul.RestartAsync();
        }

        _consul.ResponseDelay = TimeSpan.Zero;
        _consul.Fault = SimulatorFault.None;
    }

    /// <summary>Whether some answer to the gateway's health query carried a lower index than an earlier one.</summary>
    private bool SawIndexGoBackwards()
    {
        ulong highest = 0;
        foreach (var request in _consul.Requests.Where(r => r.Path.StartsWith("/v1/health/service/", StringComparison.Ordinal)))
        {
            if (request.AnsweredIndex is { } index)
            {
                if (index < highest)
                {
                    return true;
                }

                highest = Math.Max(highest, index);
            }
        }

        return false;
    }

    private static async Task<bool> TryHoldsAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        try
        {
            await Eventually.HoldsAsync(condition, "a scenario condition", timeout);
            return true;
        }
        catch (Xunit.Sdk.FailException)
        {
            return false;
        }
    }

    private HashSet<int> Ports(params string[] names) => [.. names.Select(n => new Uri(_backends[n].Url).Port)];

    private static HashSet<int> RoutedPorts(GatewayHost gateway) =>
        gateway.App.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(Cluster, out var cluster)
            ? [.. cluster.Destinations.Values.Select(d => new Uri(d.Model.Config.Address).Port)]
            : [];

    private string DestinationId(GatewayHost gateway, string name)
    {
        var port = new Uri(_backends[name].Url).Port;
        gateway.App.Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(Cluster, out var cluster);
        return cluster!.Destinations.Values.Single(d => new Uri(d.Model.Config.Address).Port == port).DestinationId;
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
        ["HealthProxy:Discovery:Wait"] = Wait.ToString(),
        ["HealthProxy:Discovery:StaleAfter"] = StaleAfter.ToString(),
        ["HealthProxy:Discovery:RetryMaxDelay"] = "00:00:01",
        ["HealthProxy:Discovery:FallbackProbeInterval"] = "00:00:00.200",
        ["HealthProxy:Discovery:FallbackProbePath"] = Backend.HealthPath,
        ["HealthProxy:Probes:UnhealthyThreshold"] = "2",
        ["ReverseProxy:Routes:all:ClusterId"] = Cluster,
        ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
        [$"ReverseProxy:Clusters:{Cluster}:LoadBalancingPolicy"] = "RoundRobin",
        [$"ReverseProxy:Clusters:{Cluster}:Metadata:consul.service"] = Cluster,
        [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Enabled"] = "true",
        [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Interval"] = "00:00:00.200",
        [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Timeout"] = "00:00:01",
        [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Path"] = Backend.HealthPath,
    };

    private void Register(string name)
    {
        var backend = Backend.Start(name);
        _backends[name] = backend;
        _consul.RegisterService(new SimulatedService
        {
            Name = Cluster,
            ID = $"{Cluster}-{name}",
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-" + name, Status = "passing" }],
        });
    }

    /// <summary>What the gateway showed while Consul was broken, sampled every 100 ms.</summary>
    private sealed class FaultWatch
    {
        public List<string> Readiness { get; } = [];

        public string? Replaced { get; private set; }

        public string? NotReady { get; private set; }

        public TimeSpan? Ejected { get; private set; }

        public TimeSpan? StaleSeen { get; private set; }

        public bool SawStaleSignals => StaleSeen is not null;

        public double? LastReachable { get; private set; }

        public bool ReadyAndReachable { get; private set; }

        /// <summary>Takes one sample; <paramref name="elapsed"/> is null after the fault (then the instance set may grow).</summary>
        public async Task<bool> SampleAsync(GatewayHost gateway, InstanceHealthStore store, string killedId, HashSet<int> expectedPorts, TimeSpan? elapsed)
        {
            var ports = RoutedPorts(gateway);
            if (elapsed is not null && !ports.SetEquals(expectedPorts) && Replaced is null)
            {
                Replaced = $"routed ports {string.Join(",", ports.Order())} instead of {string.Join(",", expectedPorts.Order())}";
            }

            var readiness = await GatewaySignals.ReadinessAsync(gateway.Client);
            if (Readiness.LastOrDefault() != readiness)
            {
                Readiness.Add(readiness);
            }

            if (elapsed is not null && !readiness.StartsWith("200 ", StringComparison.Ordinal))
            {
                NotReady ??= readiness;
            }

            if (elapsed is not null && Ejected is null && store.Get(Cluster, killedId)?.State == HealthState.Unhealthy)
            {
                Ejected = elapsed;
            }

            var scrape = await GatewaySignals.ScrapeAsync(gateway.Client);
            LastReachable = GatewaySignals.Value(scrape, "healthproxy_registry_reachable", $"consul_service=\"{Cluster}\"");
            var stale = GatewaySignals.Value(scrape, "healthproxy_registry_stale", $"consul_service=\"{Cluster}\"");
            if (elapsed is not null && StaleSeen is null && readiness == "200 degraded" && LastReachable == 0 && stale == 1)
            {
                StaleSeen = elapsed;
            }

            ReadyAndReachable = readiness == "200 ready" && LastReachable == 1 && stale == 0 && ports.SetEquals(expectedPorts);
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            return true;
        }
    }
}
