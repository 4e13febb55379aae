// The one-command demo: three instances of a sample "catalog" service in different states, the
// gateway in front of them with the repository's appsettings.json, and live reads and writes.
// Every two seconds it prints where the traffic went. A scripted tour changes states as it runs;
// type "<instance> <state>" (e.g. "b unhealthy") and Enter to change one yourself.
//
//   dotnet run --project samples/HealthProxy.Demo [-- --duration 60]   (0 = until Ctrl+C)
//   dotnet run --project samples/HealthProxy.Demo -- --consul          (the same, discovered through Consul: ConsulDemo.cs)
using System.Globalization;
using HealthProxy.Demo;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Health;

var duration = TimeSpan.FromSeconds(ReadOption(args, "--duration", 60));
var gatewayPort = ReadOption(args, "--port", 5000);
var root = FindRepositoryRoot();
if (args.Contains("--consul"))
{
    return await ConsulDemo.RunAsync(root, gatewayPort, duration);
}

SampleInstance[] instances = [new("a", 5101), new("b", 5102), new("c", 5103)];
instances[0].State = HealthState.Healthy;
instances[1].State = HealthState.Degraded;
instances[2].State = HealthState.Draining;
foreach (var instance in instances)
{
    await instance.StartAsync();
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, Args = [] });
builder.WebHost.UseUrls($"http://127.0.0.1:{gatewayPort}");
builder.Logging.AddFilter("HealthProxy", LogLevel.Warning);
builder.AddHealthProxy();
var gateway = builder.Build();
gateway.MapHealthProxy();
await gateway.StartAsync();

var gatewayUrl = $"http://127.0.0.1:{gatewayPort}";
Console.WriteLine($"HealthProxy demo: gateway {gatewayUrl}, config {Path.Combine(root, "appsettings.json")}");
Console.WriteLine("Reads  = GET  /catalog/items and POST /catalog/search (declared a read by route metadata)");
Console.WriteLine("Writes = POST /catalog/orders. Reads go to healthy+degraded, writes to healthy only.");
Console.WriteLine("Type '<a|b|c> <healthy|degraded|starting|draining|unhealthy>' + Enter to change an instance.");
Console.WriteLine();

using var stop = DemoTraffic.StopAfter(duration);

var tally = new TrafficTally();
using var client = new HttpClient { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(5) };
var traffic = Task.Run(() => DemoTraffic.SendAsync(client, tally, stop.Token));
_ = Task.Run(() => ReadCommands(instances, stop.Token));
var tour = Task.Run(() => TourAsync(instances, stop.Token));

var started = DateTime.UtcNow;
try
{
    while (!stop.IsCancellationRequested)
    {
        await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
        Print(DateTime.UtcNow - started, instances, tally.Drain());
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

static async Task TourAsync(SampleInstance[] instances, CancellationToken stop)
{
    (int At, string Instance, HealthState State, string Why)[] steps =
    [
        (8, "b", HealthState.Healthy, "b recovers: it takes writes again"),
        (16, "a", HealthState.Unhealthy, "a fails: reads and writes leave it"),
        (24, "c", HealthState.Starting, "c restarts: still no traffic while starting"),
        (30, "c", HealthState.Healthy, "c is ready: it takes reads and writes"),
        (36, "b", HealthState.Degraded, "b degrades: reads only"),
        (42, "c", HealthState.Unhealthy, "c fails: writes have nowhere to go, so they fall back to all instances"),
        (50, "a", HealthState.Healthy, "a recovers: writes go to a alone"),
    ];
    var started = DateTime.UtcNow;
    foreach (var step in steps)
    {
        var wait = TimeSpan.FromSeconds(step.At) - (DateTime.UtcNow - started);
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

        instances.Single(i => i.Name == step.Instance).State = step.State;
        Console.WriteLine($"  >>> {step.Why} (set {step.Instance} {step.State.ToWireName()})");
    }
}

static void ReadCommands(SampleInstance[] instances, CancellationToken stop)
{
    if (Console.IsInputRedirected && Console.In.Peek() < 0)
    {
        return;
    }

    while (!stop.IsCancellationRequested && Console.In.ReadLine() is { } line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var instance = parts.Length == 2 ? instances.FirstOrDefault(i => i.Name == parts[0]) : null;
        if (instance is not null && HealthStateNames.TryParse(parts[1], out var state))
        {
            instance.State = state;
            Console.WriteLine($"  >>> set {instance.Name} {state.ToWireName()}");
        }
        else
        {
            Console.WriteLine("  usage: <a|b|c> <healthy|degraded|starting|draining|unhealthy>");
        }
    }
}

static void Print(TimeSpan elapsed, SampleInstance[] instances, Dictionary<(RequestKind Kind, string Instance), int> counts)
{
    string Row(RequestKind kind) => DemoTraffic.Row(counts, kind);
    var states = string.Join(" ", instances.Select(i => $"{i.Name}={i.State.ToWireName(),-9}"));
    Console.WriteLine($"[{elapsed.TotalSeconds,3:F0}s] {states} | reads -> {Row(RequestKind.Read),-16} | writes -> {Row(RequestKind.Write)}");
}

static int ReadOption(string[] args, string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "HealthProxy.sln")) && File.Exists(Path.Combine(dir.FullName, "appsettings.json")))
        {
            return dir.FullName;
        }
    }

    return AppContext.BaseDirectory;
}
