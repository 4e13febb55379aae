using static System.FormattableString;
using HealthProxy.Consul.Simulator;
using HealthProxy.Testing;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Registry;

/// <summary>
/// Issue 17.12: a quiet, healthy Consul (nothing changes, every blocking query runs its whole wait and comes
/// back with the same index) under steady load. The registry data age must stay near zero, never climbing
/// toward the wait, and nothing may turn stale or fail.
/// </summary>
public sealed class QuietRegistryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Cluster = "orders";

    private static readonly TimeSpan Wait = ReliabilityMode.Pick(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
    private static readonly int Waits = ReliabilityMode.Pick(3, 4);

    private readonly List<Backend> _backends = [];
    private ConsulSimulator _consul = null!;

    public async Task InitializeAsync() => _consul = await ConsulSimulator.StartAsync();

    public async Task DisposeAsync()
    {
        await _consul.DisposeAsync();
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    [Fact]
    public async Task QuietConsul_WholeBlockingWaitsUnderLoad_DataAgeStaysNearZero_NeverStale()
    {
        Register("a");
        Register("b");
        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();
        await using var load = new MixedLoad(gateway.Client, workers: 2, pace: TimeSpan.FromMilliseconds(25));
        var problems = new List<string>();

        var maxAge = 0.0;
        var stale = false;
        var samples = 0;
        var until = DateTime.UtcNow + (Wait * Waits) + TimeSpan.FromSeconds(1);
        while (DateTime.UtcNow < until)
        {
            var scrape = await GatewaySignals.ScrapeAsync(gateway.Client);
            if (GatewaySignals.Value(scrape, "healthproxy_registry_data_age_seconds", $"consul_service=\"{Cluster}\"") is { } age)
            {
                maxAge = Math.Max(maxAge, age);
                samples++;
            }

            stale |= GatewaySignals.Value(scrape, "healthproxy_registry_stale", $"consul_service=\"{Cluster}\"") == 1;
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        await load.StopAsync();

        // Proof the waits were quiet: blocking queries came back with nothing new.
        var quietReturns = _consul.Requests.Count(r => r.Path == $"/v1/health/service/{Cluster}" && r.Query.Contains("index=", StringComparison.Ordinal) && r.AnsweredIndex == _consul.Index);
        if (quietReturns < Waits - 1)
        {
            problems.Add(Invariant($"only {quietReturns} blocking waits ended unchanged"));
        }

        if (samples == 0)
        {
            problems.Add("the data age gauge was never exported");
        }

        if (maxAge >= 1.0)
        {
            problems.Add(Invariant($"the data age climbed to {maxAge:0.0}s with Consul answering"));
        }

        if (stale)
        {
            problems.Add("a quiet Consul was reported stale");
        }

        if (load.Failures > 0)
        {
            problems.Add("client failures: " + string.Join("; ", load.FailureSamples));
        }

        var details = Invariant($"wait {Wait.TotalSeconds:0}s x {Waits}; {quietReturns} unchanged returns; max data age {maxAge:0.000}s over {samples} scrapes; stale seen {stale}") +
            (problems.Count > 0 ? "; PROBLEMS: " + string.Join("; ", problems) : "");
        ScenarioTable.Report(output, new ScenarioResult("registry", "Consul quiet through whole blocking waits", load.Requests, load.Failures, problems.Count == 0, details));
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
        ["HealthProxy:Discovery:Wait"] = Wait.ToString(),
        ["HealthProxy:Discovery:StaleAfter"] = "00:00:01",
        ["ReverseProxy:Routes:all:ClusterId"] = Cluster,
        ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
        [$"ReverseProxy:Clusters:{Cluster}:LoadBalancingPolicy"] = "RoundRobin",
        [$"ReverseProxy:Clusters:{Cluster}:Metadata:consul.service"] = Cluster,
    };

    private void Register(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        _consul.RegisterService(new SimulatedService
        {
            Name = Cluster,
            ID = $"{Cluster}-{name}",
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-" + name, Status = "passing" }],
        });
    }
}
