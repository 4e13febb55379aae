using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Demo;

/// <summary>
/// The demo with Consul in the middle, and still nothing installed: the project's Consul simulator (the HTTP API
/// the gateway and the reporting library use, on a loopback port), three instances of the sample service that
/// publish their health to it with TTL checks, and the gateway discovering them from it with blocking queries
/// (samples/HealthProxy.Demo/appsettings.consul.json). The gateway has no static destinations and no probes here:
/// every routing change below comes from Consul. With a real agent (consul agent -dev), point
/// HealthProxy:Consul:Address at it instead.
/// </summary>
internal static class ConsulDemo
{
    public static async Task<int> RunAsync(string root, int gatewayPort, TimeSpan duration)
    {
        await using var consul = await ConsulSimulator.StartAsync();
        ConsulInstance[] instances = [new("a", 5101, consul.Address), new("b", 5102, consul.Address), new("c", 5103, consul.Address)];
        instances[1].Own = HealthStatus.Degraded;
        foreach (var instance in instances)
        {
            await instance.StartAsync();
        }

        instances[0].MarkReady();
        instances[1].MarkReady();   // c stays starting until the tour marks it ready

        var config = Path.Combine(root, "samples", "HealthProxy.Demo", "appsettings.consul.json");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = root,
            Args = ["--HealthProxy:ConfigFile", config, "--HealthProxy:Consul:Address", consul.Address.ToString()],
        });
        builder.WebHost.UseUrls($"http://127.0.0.1:{gatewayPort}");
        builder.Logging.AddFilter("HealthProxy", LogLevel.Warning);
        builder.AddHealthProxy();
        var gateway = builder.Build();
        gateway.MapHealthProxy();
        await gateway.StartAsync();

        var gatewayUrl = $"http://127.0.0.1:{gatewayPort}";
        Console.WriteLine($"HealthProxy Consul demo: gateway {gatewayUrl}, Consul (simulator) {consul.Address}, config {config}");
        Console.WriteLine("Instances a, b, c of service 'catalog' publish to Consul (TTL checks); the gateway discovers them from Consul alone.");
        Console.WriteLine("Type '<a|b|c> <healthy|degraded|unhealthy|ready|draining>' + Enter to change an instance.");
        Console.WriteLine($"Consul's own view: curl {consul.Address}v1/health/service/catalog");
        Console.WriteLine();

        using var stop = DemoTraffic.StopAfter(duration);

        var tally = new TrafficTally();
        using var client = new HttpClient { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(5) };
        var traffic = Task.Run(() => DemoTraffic.SendAsync(client, tally, stop.Token));
        _ = Task.Run(() => ReadCommands(instances, stop.Token));
        var tour = Task.Run(() => TourAsync(instances, stop.Token));

        var started = TimeProvider.System.GetTimestamp();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
                var counts = tally.Drain();
                var states = string.Join(" ", instances.Select(i => $"{i.Name}={Describe(i),-9}"));
                Console.WriteLine($"[{TimeProvider.System.GetElapsedTime(started).TotalSeconds,3:F0}s] {states} | reads -> {DemoTraffic.Row(counts, RequestKind.Read),-16} | writes -> {DemoTraffic.Row(counts, RequestKind.Write)}");
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }

        await Task.WhenAll(traffic, tour);
        await gateway.StopAsync();
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }

        return 0;
    }

    /// <summary>What the instance reports of itself: its lifecycle while not ready, else its own health.</summary>
    private static string Describe(ConsulInstance instance) => instance.Lifecycle switch
    {
        Reporting.Lifecycle.ServiceLifecycleState.Ready => instance.Own switch
        {
            HealthStatus.Healthy => "healthy",
            HealthStatus.Degraded => "degraded",
            _ => "unhealthy",
        },
        var lifecycle => lifecycle.ToString().ToLowerInvariant(),
    };

    private static async Task TourAsync(ConsulInstance[] instances, CancellationToken stop)
    {
        (int At, string Instance, Action<ConsulInstance> Change, string Why)[] steps =
        [
            (8, "c", i => i.MarkReady(), "c has warmed up and marks itself ready: Consul says passing, it takes reads and writes"),
            (16, "a", i => i.Own = HealthStatus.Unhealthy, "a's own check fails: Consul says critical, traffic leaves it"),
            (24, "b", i => i.Own = HealthStatus.Healthy, "b recovers: Consul says passing, it takes writes again"),
            (32, "a", i => i.Own = HealthStatus.Healthy, "a recovers"),
            (40, "b", i => i.BeginDraining(), "b starts draining (as on shutdown): Consul says critical at once, b takes nothing"),
        ];
        var started = TimeProvider.System.GetTimestamp();
        foreach (var step in steps)
        {
            var wait = TimeSpan.FromSeconds(step.At) - TimeProvider.System.GetElapsedTime(started);
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            step.Change(instances.Single(i => i.Name == step.Instance));
            Console.WriteLine($"  >>> {step.Why}");
        }
    }

    private static void ReadCommands(ConsulInstance[] instances, CancellationToken stop)
    {
        if (Console.IsInputRedirected && Console.In.Peek() < 0)
        {
            return;
        }

        while (!stop.IsCancellationRequested && Console.In.ReadLine() is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var instance = parts.Length == 2 ? instances.FirstOrDefault(i => i.Name == parts[0]) : null;
            Action<ConsulInstance>? change = parts.Length == 2 ? parts[1] switch
            {
                "healthy" => i => i.Own = HealthStatus.Healthy,
                "degraded" => i => i.Own = HealthStatus.Degraded,
                "unhealthy" => i => i.Own = HealthStatus.Unhealthy,
                "ready" => i => i.MarkReady(),
                "draining" => i => i.BeginDraining(),
                _ => null,
            } : null;
            if (instance is not null && change is not null)
            {
                change(instance);
                Console.WriteLine($"  >>> set {instance.Name} {parts[1]}");
            }
            else
            {
                Console.WriteLine("  usage: <a|b|c> <healthy|degraded|unhealthy|ready|draining>");
            }
        }
    }
}
