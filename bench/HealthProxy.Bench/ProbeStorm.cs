using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Bench;

/// <summary>
/// Probe storm: CLUSTERS x DESTS destinations probed by the gateway (a separate process, so its CPU
/// comes from /proc/&lt;pid&gt;/stat) every INTERVAL, against BACKENDS Kestrel listeners in this
/// process that answer /health and stamp every arrival with Stopwatch. Reports probes per 100 ms
/// window for the startup round (the first 5 s after the first arrival) and for steady state
/// (DURATION_S seconds from /health/startup 200), and the gateway's CPU over each.
/// </summary>
internal static class ProbeStorm
{
    private const int WindowMs = 100;
    private static readonly long[] s_arrivals = new long[4_000_000];
    private static int s_count;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> s_connections = new(StringComparer.Ordinal);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: HealthProxy.Bench probes <gateway.dll> <work-dir>");
            return 2;
        }

        var gatewayDll = args[0];
        var workDir = args[1];
        var clusters = Env("CLUSTERS", 10);
        var dests = Env("DESTS", 100);
        var backends = Env("BACKENDS", 4);
        var duration = Env("DURATION_S", 60);
        var interval = Environment.GetEnvironmentVariable("INTERVAL") ?? "00:00:05";
        var initial = Environment.GetEnvironmentVariable("INITIAL_CONCURRENCY");

        Console.WriteLine($"probe storm: {clusters} clusters x {dests} destinations = {clusters * dests}, {backends} backends, interval {interval}, steady {duration} s, InitialConcurrency {initial ?? "(default)"}");
        Console.WriteLine($"host: nproc {Environment.ProcessorCount}; load average {RoutingAllocation.LoadAverage()}");

        // Backends: Kestrel, one app with BACKENDS loopback listeners.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            for (var i = 0; i < backends; i++)
            {
                k.Listen(System.Net.IPAddress.Loopback, 0);
            }
        });
        var body = Encoding.UTF8.GetBytes("{\"status\":\"healthy\"}");
        var app = builder.Build();
        app.Run(ctx =>
        {
            if (ctx.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
            {
                var i = Interlocked.Increment(ref s_count) - 1;
                if (i < s_arrivals.Length)
                {
                    s_arrivals[i] = Stopwatch.GetTimestamp();
                }

                s_connections.TryAdd(ctx.Connection.Id, 0);

                ctx.Response.ContentType = "application/json";
                ctx.Response.ContentLength = body.Length;
                return ctx.Response.Body.WriteAsync(body).AsTask();
            }

            ctx.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToArray();

        // Gateway config: distinct destination ids, addresses cycling over the backends.
        Directory.CreateDirectory(workDir);
        var json = new StringBuilder();
        json.Append("{\"Logging\":{\"LogLevel\":{\"Default\":\"Warning\"}},\"ReverseProxy\":{\"Routes\":{");
        for (var c = 0; c < clusters; c++)
        {
            json.Append(CultureInfo.InvariantCulture, $"{(c > 0 ? "," : "")}\"r{c}\":{{\"ClusterId\":\"c{c}\",\"Match\":{{\"Path\":\"/c{c}/{{**rest}}\"}}}}");
        }

        json.Append("},\"Clusters\":{");
        var n = 0;
        for (var c = 0; c < clusters; c++)
        {
            json.Append(CultureInfo.InvariantCulture, $"{(c > 0 ? "," : "")}\"c{c}\":{{\"HealthCheck\":{{\"Active\":{{\"Enabled\":true,\"Interval\":\"{interval}\",\"Timeout\":\"00:00:02\",\"Path\":\"/health\"}}}},\"Destinations\":{{");
            for (var d = 0; d < dests; d++, n++)
            {
                json.Append(CultureInfo.InvariantCulture, $"{(d > 0 ? "," : "")}\"d{c}-{d}\":{{\"Address\":\"http://127.0.0.1:{ports[n % ports.Length]}/\"}}");
            }

            json.Append("}}");
        }

        json.Append("}}");
        if (initial is not null)
        {
            json.Append(CultureInfo.InvariantCulture, $",\"HealthProxy\":{{\"Probes\":{{\"InitialConcurrency\":{initial}}}}}");
        }

        json.Append('}');
        await File.WriteAllTextAsync(Path.Combine(workDir, "appsettings.json"), json.ToString());

        var gatewayPort = FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { gatewayDll, "--contentRoot", workDir, "--urls", $"http://127.0.0.1:{gatewayPort}" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_gcServer"] = Environment.GetEnvironmentVariable("GATEWAY_GC_SERVER") ?? "1";
        var log = new StringBuilder();
        var processStart = Stopwatch.GetTimestamp();
        using var gateway = Process.Start(psi)!;
        gateway.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        gateway.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            long startupDone = 0;
            var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
            while (Stopwatch.GetTimestamp() < deadline && !gateway.HasExited)
            {
                try
                {
                    using var r = await http.GetAsync(new Uri($"http://127.0.0.1:{gatewayPort}/health/startup"));
                    if (r.IsSuccessStatusCode)
                    {
                        startupDone = Stopwatch.GetTimestamp();
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                await Task.Delay(20);
            }

            if (startupDone == 0)
            {
                Console.Error.WriteLine("gateway did not report /health/startup 200; its log:");
                Console.Error.WriteLine(log.ToString());
                return 1;
            }

            var cpuStartup = CpuSeconds(gateway.Id);
            var connectionsStartup = s_connections.Count;
            var threadsStart = ThreadCpu(gateway.Id);
            var countStartup = Volatile.Read(ref s_count);
            var loadStart = RoutingAllocation.LoadAverage();
            await Task.Delay(TimeSpan.FromSeconds(duration));
            var steadyEnd = Stopwatch.GetTimestamp();
            var cpuEnd = CpuSeconds(gateway.Id);
            var threadsEnd = ThreadCpu(gateway.Id);
            var total = Math.Min(Volatile.Read(ref s_count), s_arrivals.Length);
            var stamps = s_arrivals.AsSpan(0, total).ToArray();
            Array.Sort(stamps);
            var first = stamps.Length > 0 ? stamps[0] : startupDone;

            Console.WriteLine();
            Console.WriteLine($"gateway start -> first probe {Ms(first - processStart):F0} ms, -> /health/startup 200 {Ms(startupDone - processStart):F0} ms (first probe -> 200: {Ms(startupDone - first):F0} ms)");
            Console.WriteLine($"gateway CPU to /health/startup 200: {cpuStartup:F2} s ({countStartup} probes arrived by then)");
            Console.WriteLine();
            Console.WriteLine($"{"phase",-26} {"windows",7} {"probes",7} {"mean",7} {"max",5} {"max/mean",8} {"p99",5} {"p50",5} {"CPU %",6} {"us CPU/probe",12} {"load1",6}");
            var firstRoundEnd = first + (Stopwatch.Frequency * 5);
            Print("(a) first 5 s (startup)", stamps, first, firstRoundEnd, null, null);
            var steadyCpu = cpuEnd - cpuStartup;
            Print($"(b) steady {duration} s", stamps, startupDone, steadyEnd, steadyCpu, Ms(steadyEnd - startupDone) / 1000.0);
            Console.WriteLine($"backend connections used: {connectionsStartup} by /health/startup 200, {s_connections.Count - connectionsStartup} more during steady state");
            var byName = threadsEnd.Select(t => (t.Key, Ticks: t.Value - threadsStart.GetValueOrDefault(t.Key))).OrderByDescending(t => t.Ticks).Take(6);
            Console.WriteLine($"gateway CPU in steady state by thread name (s): {string.Join(", ", byName.Select(t => $"{t.Key} {t.Ticks / 100.0:F2}"))}");
            Console.WriteLine($"load average at steady start {loadStart}, at end {RoutingAllocation.LoadAverage()}; expected steady mean {clusters * dests / ParseSeconds(interval) * WindowMs / 1000.0:F1} probes/window");
            return 0;
        }
        finally
        {
            try
            {
                gateway.Kill(entireProcessTree: true);
                await gateway.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }

            await app.StopAsync();
        }
    }

    private static void Print(string phase, long[] stamps, long from, long to, double? cpuS, double? seconds)
    {
        var windowTicks = Stopwatch.Frequency * WindowMs / 1000;
        var windows = (int)((to - from) / windowTicks);
        if (windows <= 0)
        {
            return;
        }

        var counts = new int[windows];
        var probes = 0;
        foreach (var t in stamps)
        {
            if (t < from)
            {
                continue;
            }

            var w = (t - from) / windowTicks;
            if (w >= windows)
            {
                break;
            }

            counts[w]++;
            probes++;
        }

        var mean = (double)probes / windows;
        var sorted = counts.OrderBy(c => c).ToArray();
        var max = sorted[^1];
        var p99 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
        var p50 = sorted[sorted.Length / 2];
        var cpuPct = cpuS is { } c && seconds is { } s ? $"{100.0 * c / s:F1}" : "-";
        var perProbe = cpuS is { } c2 && probes > 0 ? $"{c2 * 1e6 / probes:F1}" : "-";
        Console.WriteLine($"{phase,-26} {windows,7} {probes,7} {mean,7:F1} {max,5} {max / mean,8:F2} {p99,5} {p50,5} {cpuPct,6} {perProbe,12} {RoutingAllocation.LoadAverage().Split(' ')[0],6}");
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static double ParseSeconds(string interval) => TimeSpan.Parse(interval, CultureInfo.InvariantCulture).TotalSeconds;

    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static double CpuSeconds(int pid)
    {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the ")" of the name.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // CLK_TCK is 100 on Linux
    }

    /// <summary>user + system CPU ticks per thread name (threads of one name summed).</summary>
    private static Dictionary<string, long> ThreadCpu(int pid)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
                result[name] = result.GetValueOrDefault(name) + ticks;
            }
            catch (IOException)
            {
                // The thread ended.
            }
        }

        return result;
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
