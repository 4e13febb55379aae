// Failover: three backends under steady load through the real gateway; one is killed mid-run.
// Prints failed client requests per kind, retries, and how long the dead instance kept getting traffic.
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using HealthProxy.Gateway.Hosting;

var duration = TimeSpan.FromSeconds(args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 12);
var killAt = TimeSpan.FromSeconds(args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 4);
const int Workers = 16;

var backends = new List<WebApplication>();
foreach (var name in new[] { "a", "b", "c" })
{
    var b = WebApplication.CreateSlimBuilder();
    b.Logging.ClearProviders();
    b.WebHost.UseUrls("http://127.0.0.1:0");
    b.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
    var app = b.Build();
    app.Run(async context =>
    {
        context.Response.Headers["X-Served-By"] = name;
        await context.Response.WriteAsync(name);
    });
    await app.StartAsync();
    backends.Add(app);
}

var settings = new Dictionary<string, string?>
{
    ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00",   // the bench stops it at once
    ["ReverseProxy:Routes:all:ClusterId"] = "svc",
    ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
    ["ReverseProxy:Clusters:svc:LoadBalancingPolicy"] = "RoundRobin",
};
for (var i = 0; i < backends.Count; i++)
{
    settings[$"ReverseProxy:Clusters:svc:Destinations:{"abc"[i]}:Address"] = backends[i].Urls.First();
}

var builder = WebApplication.CreateBuilder();
builder.Configuration.Sources.Clear();
builder.Configuration.AddInMemoryCollection(settings);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.AddHealthProxy();
var gateway = builder.Build();
gateway.MapHealthProxy();
await gateway.StartAsync();

var clock = Stopwatch.StartNew();
long ejectedAtTicks = -1;
long retries = 0;
using var listener = new MeterListener();
listener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == "HealthProxy.Gateway" && instrument.Name is "healthproxy.outlier.ejections" or "healthproxy.retries")
    {
        l.EnableMeasurementEvents(instrument);
    }
};
listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
{
    if (instrument.Name == "healthproxy.outlier.ejections")
    {
        Interlocked.CompareExchange(ref ejectedAtTicks, clock.ElapsedTicks, -1);
    }
    else
    {
        Interlocked.Add(ref retries, value);
    }
});
listener.Start();

using var client = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
long reads = 0, writes = 0, failedReads = 0, failedWrites = 0, servedByDeadAfterKill = 0;
long killedAtTicks = -1;

async Task WorkAsync(int worker)
{
    var n = 0;
    while (clock.Elapsed < duration)
    {
        var isRead = (n++ + worker) % 2 == 0;
        using var request = new HttpRequestMessage(isRead ? HttpMethod.Get : HttpMethod.Post, "/items");
        if (!isRead)
        {
            request.Content = new StringContent("{}");
        }

        Interlocked.Increment(ref isRead ? ref reads : ref writes);
        try
        {
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref isRead ? ref failedReads : ref failedWrites);
            }
            else if (Volatile.Read(ref killedAtTicks) >= 0 && response.Headers.TryGetValues("X-Served-By", out var by) && by.First() == "c")
            {
                Interlocked.Increment(ref servedByDeadAfterKill);
            }
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref isRead ? ref failedReads : ref failedWrites);
        }
    }
}

var load = Enumerable.Range(0, Workers).Select(WorkAsync).ToArray();
await Task.Delay(killAt);
Volatile.Write(ref killedAtTicks, clock.ElapsedTicks);
var stop = backends[2].StopAsync(new CancellationTokenSource(TimeSpan.Zero).Token);
await Task.WhenAll(load);
await stop;

var ejectedAfter = ejectedAtTicks < 0 ? "never" : $"{(ejectedAtTicks - killedAtTicks) * 1000.0 / Stopwatch.Frequency:F0} ms";
Console.WriteLine($"duration {duration.TotalSeconds:F0} s, {Workers} concurrent clients, instance c killed at {killAt.TotalSeconds:F0} s");
Console.WriteLine($"reads:  {reads,7} sent, {failedReads} failed");
Console.WriteLine($"writes: {writes,7} sent, {failedWrites} failed");
Console.WriteLine($"retries on another instance: {Interlocked.Read(ref retries)}");
Console.WriteLine($"dead instance ejected (no more traffic) {ejectedAfter} after the kill");

await gateway.StopAsync();
foreach (var backend in backends.Take(2))
{
    await backend.StopAsync();
}

return failedReads == 0 ? 0 : 1;
