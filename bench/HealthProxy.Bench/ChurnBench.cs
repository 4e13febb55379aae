using System.Diagnostics;
using System.Globalization;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Bench;

/// <summary>
/// Destination ids churned through discovery with traffic, as deploys do in production: one Consul service whose
/// instances are replaced <c>batch</c> at a time, <c>rounds</c> times, each batch under traffic (every tenth
/// request answered 503, so breakers keep state) and probed by the gateway. Prints, every tenth of the run, the
/// managed heap after a full collection, the working set, and what the gateway keeps per destination, which must
/// stay bounded by what exists now.
/// </summary>
internal static class ChurnBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100;
        var requestsPerRound = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 500;
        Console.WriteLine($"churn: nproc {Environment.ProcessorCount}, load average {RoutingAllocation.LoadAverage()}, server GC {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine($"{rounds} rounds x {batch} new destination ids ({rounds * batch:N0} in all), {requestsPerRound} requests per round");

        await using var backend = await Backend.StartAsync();
        await using var consul = await ConsulSimulator.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = consul.Address.ToString(),
            ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00",
            ["ReverseProxy:Routes:all:ClusterId"] = "churn",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:churn:Metadata:consul.service"] = "churn",
            ["ReverseProxy:Clusters:churn:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:churn:HealthCheck:Active:Interval"] = "00:00:05",
            ["ReverseProxy:Clusters:churn:HealthCheck:Active:Path"] = "/healthz",
        };

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.AddHealthProxy();
        await using var app = builder.Build();
        app.MapHealthProxy();
        await app.StartAsync();
        var table = app.Services.GetRequiredService<RoutingTable>();
        var store = app.Services.GetRequiredService<InstanceHealthStore>();
        var probes = app.Services.GetRequiredService<ActiveProbeMonitor>();
        var views = app.Services.GetRequiredService<HealthViews>();
        var passive = app.Services.GetRequiredService<OutlierDetector>();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        Console.WriteLine($"{"round",6} {"ids so far",10} {"heap MB",8} {"WS MB",7} {"routed",7} {"pending",8} {"probers",8} {"passive",8} {"views",6} {"load1",6}");
        var current = new List<string>();
        var next = 0;
        var failures = 0;
        var baselineHeap = 0.0;
        double heap = 0;
        for (var round = 1; round <= rounds; round++)
        {
            var ids = Enumerable.Range(next, batch).Select(i => $"churn-{i}").ToList();
            next += batch;
            foreach (var id in ids)
            {
                consul.RegisterService(new SimulatedService
                {
                    Name = "churn",
                    ID = id,
                    Address = "127.0.0.1",
                    Port = backend.Port,
                    Checks = [new SimulatedCheck { CheckID = "chk-" + id, Status = "passing" }],
                });
            }

            foreach (var id in current)
            {
                consul.DeregisterService(id);
            }

            current = ids;
            var wanted = ids.Select(id => $"{consul.AgentNode}/{id}").ToHashSet(StringComparer.Ordinal);
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
            while (!(table.TryGet("churn", out var routing) && routing.All.Count == batch && routing.All.All(d => wanted.Contains(d.DestinationId))))
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"round {round}: the new destinations were not routed within 60 s");
                }

                await Task.Delay(5);
            }

            await Parallel.ForAsync(0, requestsPerRound, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
            {
                using var response = await client.GetAsync(i % 10 == 0 ? "/fail" : "/ok", token);
                if ((int)response.StatusCode >= 500 && i % 10 != 0)
                {
                    Interlocked.Increment(ref failures);
                }
            });

            if (round == 1 || round % Math.Max(1, rounds / 10) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                heap = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0;
                baselineHeap = round == 1 ? heap : baselineHeap;
                var ws = Process.GetCurrentProcess().WorkingSet64 / 1048576.0;
                table.TryGet("churn", out var routed);
                Console.WriteLine($"{round,6} {next,10:N0} {heap,8:F1} {ws,7:F0} {routed?.All.Count,7} {store.PendingCount,8} {probes.ProberCount,8} {passive.PassiveHealthCount,8} {views.Current.Services.Count,6} {RoutingAllocation.LoadAverage().Split(' ')[0],6}");
            }
        }

        Console.WriteLine($"heap after round 1: {baselineHeap:F1} MB, at the end: {heap:F1} MB ({heap - baselineHeap:+0.0;-0.0} MB over {next - batch:N0} more ids); unexpected 5xx on /ok: {failures}");
        await app.StopAsync();
        return 0;
    }

    /// <summary>A loopback backend: /healthz healthy, /fail 503, anything else 200.</summary>
    private sealed class Backend : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Backend(WebApplication app, int port)
        {
            _app = app;
            Port = port;
        }

        public int Port { get; }

        public static async Task<Backend> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapGet("/healthz", () => Results.Text("{\"status\":\"healthy\"}", "application/json"));
            app.MapGet("/fail", () => Results.StatusCode(503));
            app.MapFallback(() => Results.Text("ok"));
            await app.StartAsync();
            return new Backend(app, new Uri(app.Urls.First()).Port);
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
