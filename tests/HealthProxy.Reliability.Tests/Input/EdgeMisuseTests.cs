using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Views;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Input;

/// <summary>
/// Misuse of the gateway's edge as operators and tools commit it: config files deleted, half-written or emptied
/// under load, the detailed token smuggled out in odd spellings, the gRPC port used as a second entrance, broken
/// JSON at startup, and the container's port variables beside the extra ports.
/// </summary>
public sealed class EdgeMisuseTests(ITestOutputHelper output) : IDisposable
{
    private const string Suite = "input";
    private const string Token = "s3cret-detailed-token";

    private readonly string _directory = Directory.CreateTempSubdirectory("healthproxy-edge-").FullName;
    private readonly Backend _a = Backend.Start("a");
    private readonly Backend _b = Backend.Start("b");

    [Fact]
    public async Task Edge_ConfigFileDeletedHalfWrittenOrEmptied_UnderLoad_NoRequestFails()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        var good = Json(_a.Url);
        await File.WriteAllTextAsync(file, good);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file);
        await gateway.WaitStartedAsync();
        var watch = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var (sent, failed) = (0L, 0L);
        var failures = new ConcurrentQueue<string>();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var answer = (await gateway.SendAsync(HttpMethod.Get, "/items", 1))[0];
                Interlocked.Increment(ref sent);
                if (answer != "a")
                {
                    Interlocked.Increment(ref failed);
                    failures.Enqueue(answer);
                }
            }
        });

        // Each edit is held until the gateway has seen it (its file status says so) and the load has run on through it.
        var status = gateway.App.Services.GetRequiredService<ConfigFileStatus>();
        var perPhase = ReliabilityMode.Pick(100, 2000);
        async Task SeenAsync(Func<bool> seen, string because)
        {
            await Eventually.HoldsAsync(seen, because);
            var before = Interlocked.Read(ref sent);
            await Eventually.HoldsAsync(() => Interlocked.Read(ref sent) >= before + perPhase, "requests ran after: " + because, TimeSpan.FromSeconds(60));
        }

        bool Refused(string reason) => status.Problems.TryGetValue(file, out var problem) && problem.Contains(reason, StringComparison.Ordinal);
        File.Delete(file);
        await SeenAsync(() => Refused("missing"), "the deletion");
        await File.WriteAllTextAsync(file, good);
        await SeenAsync(() => !status.Stale, "the rewrite");
        File.Delete(file);
        await File.WriteAllTextAsync(file, good[..(good.Length / 2)]);
        await SeenAsync(() => Refused("not valid JSON"), "the half-written file");
        await File.WriteAllTextAsync(file, "{}");
        await SeenAsync(() => Refused("every route and cluster"), "the {} file");
        await File.WriteAllTextAsync(file, good);
        await SeenAsync(() => !status.Stale, "the good file again");
        await stop.CancelAsync();
        await load;

        ScenarioTable.Report(output, new ScenarioResult(
            Suite, "config file deleted, rewritten, half-written, replaced by {} under load", sent, failed, failed == 0 && sent > 0,
            $"5 edits, each seen and then {perPhase} requests; non-a answers {string.Join(",", failures.Distinct().Take(5))}; {watch.Elapsed.TotalSeconds:F1} s"));
    }

    [Fact]
    public async Task Edge_DetailedTokenInOddSpellings_NeverReachesTheBackend_OtherCredentialsDo()
    {
        var settings = GatewaySettings.For([_a]);
        settings["HealthProxy:Security:DetailedToken"] = Token;
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        string[] spellings =
        [
            $"Authorization: Bearer {Token}\r\n",
            $"Authorization: Bearer {Token}\r\nAuthorization: Basic eDp5\r\n",
            $"Authorization: Basic eDp5\r\nAuthorization: Bearer {Token}\r\n",
            $"Authorization: Basic eDp5, Bearer {Token}\r\n",
            $"Authorization: Bearer {Token},Basic eDp5\r\n",
            $"authorization: bearer   {Token}\r\n",
            $"Authorization: {Token}\r\n",
        ];
        var requests = 0;
        foreach (var headers in spellings)
        {
            foreach (var path in new[] { "/items", "/health/detailedx", "/dashboardx" })
            {
                var answer = await RawHttp.SendAsync(gateway.Client.BaseAddress!, $"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
                requests++;
                Assert.NotEqual(500, answer.Status);
            }
        }

        var seen = _a.Server.LogEntries.Where(e => e.RequestMessage.Path != Backend.HealthPath).ToList();
        var leaked = seen.Count(e => e.RequestMessage.Headers?.Values.Any(v => v.Any(h => h.Contains(Token, StringComparison.Ordinal))) == true);
        var basicKept = seen.Count(e => e.RequestMessage.Headers?.TryGetValue("Authorization", out var v) == true && v.Any(h => h.Contains("Basic eDp5", StringComparison.Ordinal)));
        ScenarioTable.Report(output, new ScenarioResult(
            Suite, "detailed token in two headers, comma-joined, any case or scheme", requests, leaked, leaked == 0 && basicKept == 12 && seen.Count == requests,
            $"{spellings.Length} spellings x3 paths; {seen.Count} proxied, token at backend {leaked}x, other credential kept {basicKept}/12"));
    }

    [Fact]
    public async Task Edge_GrpcHealthPort_IsNoSecondEntrance()
    {
        var settings = GatewaySettings.For([_a]);
        settings["HealthProxy:Grpc:Port"] = "0";
        settings["HealthProxy:Grpc:Host"] = "127.0.0.1";
        settings["HealthProxy:Security:DetailedToken"] = Token;
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        var port = gateway.App.Services.GetRequiredService<GrpcHealthListener>().Port;
        using var h2c = new HttpClient();
        string[] paths = ["/items", "/anything/else", "/health", "/health/ready", "/health/detailed", "/dashboard", "/metrics", "/grpc.other.v1.Service/Call"];
        var served = new List<string>();
        foreach (var path in paths)
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
            {
                using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{port}{path}") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                request.Headers.Authorization = new("Bearer", Token);
                using var response = await h2c.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    served.Add($"{method} {path} {(int)response.StatusCode}");
                }
            }
        }

        var proxied = _a.Server.LogEntries.Count(e => e.RequestMessage.Path != Backend.HealthPath);
        ScenarioTable.Report(output, new ScenarioResult(
            Suite, "gRPC health port used for proxying, /metrics and HTTP health views", paths.Length * 2, served.Count + proxied, served.Count == 0 && proxied == 0,
            $"{paths.Length} paths x GET/POST over h2c; answered {string.Join(", ", served)}; reached the backend {proxied}x"));
    }

    [Fact]
    public async Task Edge_InvalidJsonAtStartup_OneLineNamingFileLineAndByte_NoCrash()
    {
        var contentRoot = Directory.CreateDirectory(Path.Combine(_directory, "root")).FullName;
        await File.WriteAllTextAsync(Path.Combine(contentRoot, "appsettings.json"), "{\n  \"ReverseProxy\": {\n    \"Routes\" {}\n  }\n}");
        var (exitCode, text) = await RunGatewayAsync(contentRoot, new Dictionary<string, string?>(), TimeSpan.FromSeconds(60));

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var good = exitCode == 2 && lines.Length == 1 && text.Contains("appsettings.json", StringComparison.Ordinal)
            && text.Contains("line 3, byte 14", StringComparison.Ordinal) && !text.Contains("Unhandled exception", StringComparison.Ordinal);
        ScenarioTable.Report(output, new ScenarioResult(
            Suite, "invalid JSON in appsettings.json at startup", 1, good ? 0 : 1, good, $"exit {exitCode}; {lines.Length} line(s): {text.Trim()}"));
    }

    [Fact]
    public async Task Edge_ContainerPortVariableBesideGrpcPort_MainListenerKeepsItsPort()
    {
        var contentRoot = Directory.CreateDirectory(Path.Combine(_directory, "ports")).FullName;
        await File.WriteAllTextAsync(Path.Combine(contentRoot, "appsettings.json"), Json(_a.Url));
        var (main, grpc) = (FreePort(), FreePort());
        var env = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = string.Empty,
            ["ASPNETCORE_HTTP_PORTS"] = main.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy__Grpc__Port"] = grpc.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy__Shutdown__DrainDelay"] = "00:00:00",
        };
        using var process = StartGateway(contentRoot, env, out var log);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var answered = false;
        try
        {
            await Eventually.HoldsAsync(
                async () =>
                {
                    try
                    {
                        answered = (await client.GetAsync($"http://127.0.0.1:{main}/items")).Headers.Contains("X-Served-By");
                    }
                    catch (HttpRequestException)
                    {
                        answered = false;
                    }

                    return answered || process.HasExited;
                },
                "the gateway answers on ASPNETCORE_HTTP_PORTS",
                TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        ScenarioTable.Report(output, new ScenarioResult(
            Suite, "ASPNETCORE_HTTP_PORTS beside HealthProxy:Grpc:Port (real process)", 1, answered ? 0 : 1, answered,
            answered ? $"proxied on :{main}, gRPC on :{grpc}" : $"no answer on :{main}: {string.Join(" | ", log.TakeLast(5))}"));
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<(int ExitCode, string Output)> RunGatewayAsync(string contentRoot, Dictionary<string, string?> env, TimeSpan timeout)
    {
        using var process = StartGateway(contentRoot, env, out var log);
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, string.Join('\n', log));
    }

    private static Process StartGateway(string contentRoot, Dictionary<string, string?> env, out ConcurrentQueue<string> log)
    {
        var start = GatewayCommand.For(contentRoot);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }

        var lines = new ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Enqueue(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Enqueue(lines, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log = lines;
        return process;
    }

    private static void Enqueue(ConcurrentQueue<string> lines, string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            lines.Enqueue(line);
        }
    }

    private static string Json(params string[] addresses) => JsonSerializer.Serialize(new
    {
        ReverseProxy = new
        {
            Routes = new { all = new { ClusterId = "svc", Match = new { Path = "/{**rest}" } } },
            Clusters = new
            {
                svc = new
                {
                    HealthCheck = new { Active = new { Enabled = true, Interval = "00:00:00.200", Timeout = "00:00:01", Path = Backend.HealthPath } },
                    Destinations = addresses.Select((address, i) => (Id: ((char)('a' + i)).ToString(), address)).ToDictionary(d => d.Id, d => new { Address = d.address }),
                },
            },
        },
    });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
