using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Bench;

/// <summary>
/// The gateway fed by the in-process Consul simulator with S services x I instances (spread over many
/// nodes), against a small one (10 destinations): time to /health/startup 200, working set, time to
/// apply one instance's state change and one membership change, and wrk requests/s through one route
/// of each. Registry only (no active probes), so what is measured is discovery, the store and routing.
/// </summary>
internal static class ScaleBench
{
    private const int Changes = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var services = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var instances = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        var backendPort = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        var duration = Environment.GetEnvironmentVariable("DURATION_S") ?? "10";
        var rounds = int.Parse(Environment.GetEnvironmentVariable("ROUNDS") ?? "3", CultureInfo.InvariantCulture);

        Console.WriteLine($"scale: nproc {Environment.ProcessorCount}, load average {RoutingAllocation.LoadAverage()}, server GC {System.Runtime.GCSettings.IsServerGC}");
        var small = await Deployment.StartAsync("small", 1, instances, backendPort);
        var large = await Deployment.StartAsync("large", services, instances, backendPort);
        try
        {
            Console.WriteLine();
            Console.WriteLine($"{"deployment",-10} {"services",8} {"dests",7} {"startup ms",11} {"WS delta MB",12} {"state p50 ms",13} {"state p99 ms",13} {"member ms",10} {"load1",6}");
            foreach (var d in new[] { small, large })
            {
                var state = await d.MeasureStateChangesAsync();
                var member = await d.MeasureMembershipChangeAsync();
                Console.WriteLine($"{d.Name,-10} {d.Services,8} {d.Services * d.Instances,7} {d.StartupMs,11:F0} {d.WorkingSetDeltaMb,12:F1} {state.P50,13:F2} {state.P99,13:F2} {member,10:F1} {Load1(),6}");
            }

            if (backendPort == 0)
            {
                Console.WriteLine("no backend port given: requests/s not measured");
                return 0;
            }

            Console.WriteLine();
            Console.WriteLine($"wrk -t2 -c32 -d{duration}s through route /svc-0000/ of each, {rounds} rounds, order alternated");
            Console.WriteLine($"{"round",5} {"small req/s",12} {"large req/s",12} {"ratio",6} {"small cpu us/req",17} {"large cpu us/req",17} {"load1",6}");
            var ratios = new List<double>();
            for (var r = 1; r <= rounds; r++)
            {
                var order = r % 2 == 1 ? new[] { small, large } : new[] { large, small };
                var got = new Dictionary<string, (double Rps, double CpuUs)>();
                foreach (var d in order)
                {
                    got[d.Name] = Wrk(d.Url + "/svc-0000/bench/ok", duration);
                }

                var ratio = got["large"].Rps / got["small"].Rps;
                ratios.Add(ratio);
                Console.WriteLine($"{r,5} {got["small"].Rps,12:F0} {got["large"].Rps,12:F0} {ratio,6:F3} {got["small"].CpuUs,17:F1} {got["large"].CpuUs,17:F1} {Load1(),6}");
            }

            ratios.Sort();
            var median = ratios[ratios.Count / 2];
            Console.WriteLine($"median large/small req/s {median:F3} (target >= 0.95) {(median >= 0.95 ? "PASS" : "FAIL")}");
            return 0;
        }
        finally
        {
            await large.DisposeAsync();
            await small.DisposeAsync();
        }
    }

    private static string Load1() => RoutingAllocation.LoadAverage().Split(' ')[0];

    /// <summary>Runs wrk against the in-process gateway; CPU per request is this whole process's.</summary>
    private static (double Rps, double CpuUs) Wrk(string url, string duration)
    {
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var wrk = Process.Start(new ProcessStartInfo("wrk", ["-t2", "-c32", $"-d{duration}s", url]) { RedirectStandardOutput = true })!;
        var text = wrk.StandardOutput.ReadToEnd();
        wrk.WaitForExit();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var rps = double.Parse(text.Split('\n').First(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal)).Split(':')[1].Trim(), CultureInfo.InvariantCulture);
        var requests = double.Parse(text.Split('\n').First(l => l.Contains(" requests in ", StringComparison.Ordinal)).Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (rps, cpu.TotalMicroseconds / Math.Max(1, requests));
    }

    private sealed class Deployment : IAsyncDisposable
    {
        private readonly ConsulSimulator _consul;
        private readonly WebApplication _app;

        private Deployment(string name, int services, int instances, ConsulSimulator consul, WebApplication app)
        {
            Name = name;
            Services = services;
            Instances = instances;
            _consul = consul;
            _app = app;
            Url = app.Urls.First();
        }

        public string Name { get; }

        public int Services { get; }

        public int Instances { get; }

        public string Url { get; }

        public double StartupMs { get; private set; }

        public double WorkingSetDeltaMb { get; private set; }

        public static async Task<Deployment> StartAsync(string name, int services, int instances, int backendPort)
        {
            var consul = await ConsulSimulator.StartAsync();
            for (var s = 0; s < services; s++)
            {
                for (var i = 0; i < instances; i++)
                {
                    Register(consul, s, i, backendPort);
                }
            }

            var settings = new Dictionary<string, string?>
            {
                ["HealthProxy:Consul:Address"] = consul.Address.ToString(),
                ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00",   // measured here, not drained
            };
            for (var s = 0; s < services; s++)
            {
                var id = Service(s);
                settings[$"ReverseProxy:Routes:{id}:ClusterId"] = id;
                settings[$"ReverseProxy:Routes:{id}:Match:Path"] = $"/{id}/{{**rest}}";
                settings[$"ReverseProxy:Clusters:{id}:Metadata:consul.service"] = id;
            }

            Collect();
            var before = Process.GetCurrentProcess().WorkingSet64;
            var started = Stopwatch.GetTimestamp();
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.AddHealthProxy();
            var app = builder.Build();
            app.MapHealthProxy();
            await app.StartAsync();
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 300);
            while (!await IsStartedAsync(client))
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"{name}: not started after 300 s");
                }

                await Task.Delay(10);
            }

            var startupMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            // Every instance in the routing table, not just /health/startup.
            var table = app.Services.GetRequiredService<RoutingTable>();
            while (table.Clusters.Sum(c => c.All.Count) < services * instances && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(10);
            }

            var allRoutedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Collect();
            var after = Process.GetCurrentProcess().WorkingSet64;
            var reloads = app.Services.GetRequiredService<ConfigReloadSignal>();
            Console.WriteLine($"{name}: {services} x {instances}: /health/startup 200 after {startupMs:F0} ms, all {services * instances} destinations routed after {allRoutedMs:F0} ms, working set {before / 1048576.0:F0} -> {after / 1048576.0:F0} MB (includes the simulator's own data); YARP reloads fired {reloads.Fired}, coalesced {reloads.Coalesced}");
            return new Deployment(name, services, instances, consul, app) { StartupMs = startupMs, WorkingSetDeltaMb = (after - before) / 1048576.0 };
        }

        /// <summary>Flips one instance's check <see cref="Changes"/> times: Consul's answer -> the routing table.</summary>
        public async Task<(double P50, double P99)> MeasureStateChangesAsync()
        {
            var store = _app.Services.GetRequiredService<InstanceHealthStore>();
            var service = Service(Services / 2);
            var node = Node(Services / 2, 0);
            var destination = $"{node}/{service}-0";
            var seen = new ConcurrentQueue<(long At, HealthState? State)>();
            void OnChanged(ClusterHealthChange change)
            {
                if (change.ClusterId == service && change.Current is { } routing && routing.Instances.TryGetValue(destination, out var instance))
                {
                    seen.Enqueue((Stopwatch.GetTimestamp(), instance.State));
                }
            }

            store.Changed += OnChanged;
            var latencies = new List<double>();
            try
            {
                for (var i = 0; i < Changes; i++)
                {
                    var (status, expected) = i % 2 == 0 ? ("warning", HealthState.Degraded) : ("passing", HealthState.Healthy);
                    seen.Clear();
                    _consul.ClearRequests();
                    var index = _consul.Index + 1;
                    _consul.SetCheckStatus($"chk-{service}-0", status, node: node);
                    var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 30);
                    (long At, HealthState? State) applied = default;
                    while (!seen.Any(s => s.State == expected) && Stopwatch.GetTimestamp() < deadline)
                    {
                        await Task.Delay(1);
                    }

                    applied = seen.FirstOrDefault(s => s.State == expected);
                    var answered = _consul.Requests.Where(r => r.AnsweredIndex >= index && r.Path.EndsWith("/" + service, StringComparison.Ordinal)).Select(r => r.AnsweredAt).DefaultIfEmpty(0).Min();
                    if (applied.At == 0 || answered == 0)
                    {
                        throw new TimeoutException($"{Name}: change {i} not seen");
                    }

                    latencies.Add(Stopwatch.GetElapsedTime(answered, applied.At).TotalMilliseconds);
                }
            }
            finally
            {
                store.Changed -= OnChanged;
            }

            latencies.Sort();
            return (latencies[latencies.Count / 2], latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(0.99 * latencies.Count) - 1)]);
        }

        /// <summary>Adds one instance to one service: Consul's answer -> YARP reload -> the routing table (ms, median of 3).</summary>
        public async Task<double> MeasureMembershipChangeAsync()
        {
            var table = _app.Services.GetRequiredService<RoutingTable>();
            var service = Services / 3;
            var times = new List<double>();
            for (var extra = 0; extra < 3; extra++)
            {
                _consul.ClearRequests();
                var index = _consul.Index + 1;
                var expected = Instances + extra + 1;
                Register(_consul, service, Instances + extra, 1);
                var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
                while (!(table.TryGet(Service(service), out var routing) && routing.All.Count == expected) && Stopwatch.GetTimestamp() < deadline)
                {
                    await Task.Delay(1);
                }

                var applied = Stopwatch.GetTimestamp();
                var answered = _consul.Requests.Where(r => r.AnsweredIndex >= index && r.Path.EndsWith("/" + Service(service), StringComparison.Ordinal)).Select(r => r.AnsweredAt).DefaultIfEmpty(0).Min();
                if (answered == 0 || applied > deadline)
                {
                    throw new TimeoutException($"{Name}: membership change not seen");
                }

                times.Add(Stopwatch.GetElapsedTime(answered, applied).TotalMilliseconds);
            }

            times.Sort();
            return times[1];
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            await _consul.DisposeAsync();
        }

        private static void Register(ConsulSimulator consul, int service, int instance, int port)
        {
            var name = Service(service);
            consul.RegisterService(new SimulatedService
            {
                Name = name,
                ID = $"{name}-{instance}",
                Node = Node(service, instance),
                NodeAddress = "127.0.0.1",
                Address = "127.0.0.1",
                Port = port == 0 ? 1 : port,
                Checks = [new SimulatedCheck { CheckID = $"chk-{name}-{instance}", Status = "passing" }],
            });
        }

        private static string Service(int s) => "svc-" + s.ToString("D4", CultureInfo.InvariantCulture);

        // 500 nodes, each service's instances on different nodes.
        private static string Node(int service, int instance) => "node-" + (((service * 7) + (instance * 50)) % 500).ToString("D3", CultureInfo.InvariantCulture);

        private static async Task<bool> IsStartedAsync(HttpClient client)
        {
            try
            {
                using var response = await client.GetAsync("/health/startup");
                return response.IsSuccessStatusCode;
            }
            catch (TaskCanceledException)
            {
                return false;   // a busy gateway may not answer within the client's timeout; poll again
            }
        }

        private static void Collect()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
    }
}
