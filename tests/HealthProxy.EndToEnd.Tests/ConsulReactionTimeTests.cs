using System.Collections.Concurrent;
using System.Diagnostics;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// Measures (and prints; a timed assertion is not how speed is guarded) how long a state change takes
/// from Consul's answer to the blocking query to the new eligible sets in the routing table.
/// </summary>
public sealed class ConsulReactionTimeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Changes = 100;
    private readonly Backend[] _backends = [Backend.Start("a"), Backend.Start("b"), Backend.Start("c")];
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
    public async Task StateChangesInConsul_EveryOneReachesTheRoutingTable_PrintsLatency()
    {
        foreach (var backend in _backends)
        {
            _consul.RegisterService(new SimulatedService
            {
                Name = "orders",
                ID = "orders-" + backend.Name,
                Address = "127.0.0.1",
                Port = new Uri(backend.Url).Port,
                Checks = [new SimulatedCheck { CheckID = "check-" + backend.Name, Status = "passing" }],
            });
        }

        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
            ["ReverseProxy:Routes:all:ClusterId"] = "orders",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:orders:Metadata:consul.service"] = "orders",
        });
        await gateway.WaitStartedAsync();

        var destination = $"{_consul.AgentNode}/orders-b";
        var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();
        var seen = new ConcurrentQueue<(long At, HealthState? State)>();
        store.Changed += change =>
        {
            if (change.Current is { } routing && routing.Instances.TryGetValue(destination, out var instance))
            {
                seen.Enqueue((Stopwatch.GetTimestamp(), instance.State));
            }
        };

        var latencies = new List<double>(Changes);
        for (var i = 0; i < Changes; i++)
        {
            var (status, expected) = i % 2 == 0 ? ("warning", HealthState.Degraded) : ("passing", HealthState.Healthy);
            seen.Clear();
            _consul.SetCheckStatus("check-b", status);
            var index = _consul.Index;
            await Eventually.HoldsAsync(() => seen.Any(s => s.State == expected), $"change {i} ({status}) reached the routing table");
            await Eventually.HoldsAsync(() => _consul.Requests.Any(r => r.AnsweredIndex >= index && r.Path.Contains("/health/service/", StringComparison.Ordinal)), $"change {i} was answered");

            var answeredAt = _consul.Requests.Where(r => r.AnsweredIndex >= index && r.Path.Contains("/health/service/", StringComparison.Ordinal)).Min(r => r.AnsweredAt);
            var appliedAt = seen.First(s => s.State == expected).At;
            latencies.Add(Stopwatch.GetElapsedTime(answeredAt, appliedAt).TotalMilliseconds);
        }

        latencies.Sort();
        output.WriteLine($"Consul answer -> routing table, {Changes} changes: p50 {Percentile(latencies, 0.50):F2} ms, p99 {Percentile(latencies, 0.99):F2} ms, max {latencies[^1]:F2} ms");
        Assert.Equal(Changes, latencies.Count);
        Assert.All(latencies, l => Assert.True(l >= 0, "applied before answered: the measurement is broken"));
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
