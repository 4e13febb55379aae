using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HealthProxy.Testing;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Shutdown;

/// <summary>
/// Issue 10, section 5: SIGTERM to the gateway process under load. Readiness must say 503 first, traffic keeps
/// flowing through the drain delay, then the listener closes, every in-flight response (slow, large bodies
/// included) completes, no response is cut mid-body, and the process exits 0 in time.
/// </summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DrainDelay = ReliabilityMode.Pick(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sigterm_UnderLoad_ReadinessFirstThenDrainsAndCompletesInFlight()
    {
        // Each slow response: 32 chunks of 16 KiB, 50 ms apart: 512 KiB over about 1.6 s.
        await using var slow = await SlowBackend.StartAsync(chunks: 32, chunkBytes: 16 * 1024, TimeSpan.FromMilliseconds(50));
        using var fast = Backend.Start("fast");
        using var gateway = await GatewayProcess.StartAsync(Settings(slow.Url, fast.Url), TimeSpan.FromSeconds(60));
        using var probeClient = new HttpClient { BaseAddress = gateway.Address, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(
            async () => await StatusAsync(probeClient, "/health/ready") == HttpStatusCode.OK,
            "the gateway process is ready",
            TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        var records = new ConcurrentQueue<RequestRecord>();
        var polls = new ConcurrentQueue<(TimeSpan At, string Outcome)>();
        using var stop = new CancellationTokenSource();
        var workers = new List<Task>();
        for (var i = 0; i < ReliabilityMode.Pick(3, 6); i++)
        {
            workers.Add(WorkAsync(gateway.Address, "/slow/item", slow.Body, clock, records, stop.Token));
        }

        for (var i = 0; i < ReliabilityMode.Pick(3, 6); i++)
        {
            workers.Add(WorkAsync(gateway.Address, "/fast/item", "fast"u8.ToArray(), clock, records, stop.Token));
        }

        var poller = PollReadinessAsync(gateway.Address, clock, polls, stop.Token);

        // Load until slow responses have completed and some are mid-body: SIGTERM must find work in flight.
        var warmSlow = ReliabilityMode.Pick(3, 30);
        await Eventually.HoldsAsync(
            () => records.Count(r => r.Path.StartsWith("/slow", StringComparison.Ordinal) && r.Outcome == Outcome.Ok) >= warmSlow && InFlight(records) >= 2,
            $"{warmSlow} slow responses completed and more are in flight",
            TimeSpan.FromSeconds(60));

        var sigterm = clock.Elapsed;
        gateway.Terminate();
        var exited = await gateway.WaitForExitAsync(DrainDelay + ShutdownTimeout + ExitMargin);
        var exitedAt = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(workers.Append(poller));

        var all = records.ToArray();
        var failures = all.Where(r => r.Outcome is Outcome.Cut or Outcome.Failed || (r.Outcome == Outcome.Refused && r.Start < sigterm)).ToList();
        var refused = all.Where(r => r.Outcome == Outcome.Refused).ToList();
        var listenerClosed = refused.Count > 0 ? refused.Min(r => r.End) : (TimeSpan?)null;
        var answered = all.Where(r => r.Outcome == Outcome.Ok).ToList();
        var lastAccepted = answered.Max(r => r.Start);
        var inFlight = all.Where(r => r.Start < sigterm && r.End > sigterm).ToList();
        var ready503 = polls.Where(p => p.At > sigterm && p.Outcome == "503 draining").Select(p => (TimeSpan?)p.At).FirstOrDefault();
        var servedAfter503 = ready503 is { } r503 ? answered.Count(r => r.Start > r503) : 0;

        var problems = new List<string>();
        if (!exited)
        {
            problems.Add($"did not exit within {(DrainDelay + ShutdownTimeout + ExitMargin).TotalSeconds:0} s of SIGTERM");
        }
        else if (gateway.ExitCode != 0)
        {
            problems.Add($"exit code {gateway.ExitCode}");
        }

        if (ready503 is null)
        {
            problems.Add("readiness never answered 503 draining after SIGTERM");
        }
        else if (listenerClosed is { } closed && closed < ready503)
        {
            problems.Add("the listener stopped accepting before readiness answered 503");
        }

        if (servedAfter503 == 0)
        {
            problems.Add("no request was served after readiness turned 503 (no drain phase)");
        }

        if (!inFlight.Any(r => r.Path.StartsWith("/slow", StringComparison.Ordinal)))
        {
            problems.Add("no slow response was in flight at SIGTERM");
        }

        if (failures.Count > 0)
        {
            problems.Add("failures: " + string.Join("; ", failures.Take(5).Select(f => $"{f.Path} {f.Outcome} at +{Ms(f.Start - sigterm)} ms: {f.Error}")));
        }

        var ic = CultureInfo.InvariantCulture;
        var details = string.Join("; ", new[]
        {
            string.Create(ic, $"drain {DrainDelay.TotalSeconds:0} s, timeout {ShutdownTimeout.TotalSeconds:0} s"),
            string.Create(ic, $"SIGTERM->ready 503 {Ms(ready503 - sigterm)} ms, ->last accepted {Ms(lastAccepted - sigterm)} ms, ->listener closed {Ms(listenerClosed - sigterm)} ms, ->exit {Ms(exitedAt - sigterm)} ms (code {(exited ? gateway.ExitCode.ToString(ic) : "none")})"),
            string.Create(ic, $"in flight at SIGTERM {inFlight.Count} (slow {inFlight.Count(r => r.Path.StartsWith("/slow", StringComparison.Ordinal))}), all complete: {inFlight.All(r => r.Outcome == Outcome.Ok)}"),
            string.Create(ic, $"served after ready 503 {servedAfter503}, refused after close (expected) {refused.Count(r => r.Start >= sigterm)}, cut {all.Count(r => r.Outcome == Outcome.Cut)}, failed {all.Count(r => r.Outcome == Outcome.Failed)}"),
        }.Concat(problems.Count > 0 ? ["PROBLEMS: " + string.Join("; ", problems)] : []));
        if (problems.Count > 0)
        {
            output.WriteLine(gateway.Output);
        }

        ScenarioTable.Report(output, new ScenarioResult("shutdown", "SIGTERM under load (slow large bodies)", all.Length, failures.Count, problems.Count == 0, details));
    }

    private static Dictionary<string, string?> Settings(string slowUrl, string fastUrl)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:LogLevel:HealthProxy"] = "Information",
            ["HealthProxy:Shutdown:DrainDelay"] = DrainDelay.ToString("c", CultureInfo.InvariantCulture),
            ["HealthProxy:Shutdown:Timeout"] = ShutdownTimeout.ToString("c", CultureInfo.InvariantCulture),
        };
        foreach (var (name, url) in new[] { ("slow", slowUrl), ("fast", fastUrl) })
        {
            settings[$"ReverseProxy:Routes:{name}:ClusterId"] = name;
            settings[$"ReverseProxy:Routes:{name}:Match:Path"] = $"/{name}/{{**rest}}";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Enabled"] = "true";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Interval"] = "00:00:01";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Timeout"] = "00:00:02";
            settings[$"ReverseProxy:Clusters:{name}:HealthCheck:Active:Path"] = SlowBackend.HealthPath;
            settings[$"ReverseProxy:Clusters:{name}:Destinations:{name}-1:Address"] = url;
        }

        return settings;
    }

    /// <summary>One client worker: request after request, each body read to the end and checked, until the listener refuses it.</summary>
    private static async Task WorkAsync(Uri address, string path, byte[] expected, Stopwatch clock, ConcurrentQueue<RequestRecord> records, CancellationToken stop)
    {
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        while (!stop.IsCancellationRequested)
        {
            var record = new RequestRecord(path, clock.Elapsed);
            records.Enqueue(record);
            var headersReceived = false;
            try
            {
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
                headersReceived = true;
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    record.Finish(Outcome.Failed, clock.Elapsed, $"HTTP {(int)response.StatusCode}");
                }
                else if (!body.AsSpan().SequenceEqual(expected))
                {
                    record.Finish(Outcome.Cut, clock.Elapsed, $"body {body.Length} bytes, expected {expected.Length} (or different content)");
                }
                else
                {
                    record.Finish(Outcome.Ok, clock.Elapsed, null);
                }
            }
            catch (HttpRequestException ex) when (!headersReceived && ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                record.Finish(Outcome.Refused, clock.Elapsed, ex.Message);
                return; // The listener is closed: a real load balancer would have stopped sending here long ago.
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                record.Finish(headersReceived ? Outcome.Cut : Outcome.Failed, clock.Elapsed, $"{ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>Polls /health/ready every 20 ms on a fresh connection each time, as a kubelet does.</summary>
    private static async Task PollReadinessAsync(Uri address, Stopwatch clock, ConcurrentQueue<(TimeSpan At, string Outcome)> polls, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
            string outcome;
            try
            {
                using var response = await client.GetAsync("/health/ready", CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                outcome = $"{(int)response.StatusCode}{(body.Contains("draining", StringComparison.Ordinal) ? " draining" : "")}";
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                outcome = "error";
            }

            polls.Enqueue((clock.Elapsed, outcome));
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static int InFlight(ConcurrentQueue<RequestRecord> records) =>
        records.Count(r => r.Path.StartsWith("/slow", StringComparison.Ordinal) && !r.Finished);

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static string Ms(TimeSpan? span) => span is { } s ? s.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) : "n/a";

    private enum Outcome
    {
        Pending,
        Ok,
        Refused,
        Cut,
        Failed,
    }

    private sealed class RequestRecord(string path, TimeSpan start)
    {
        private volatile bool _finished;

        public string Path { get; } = path;

        public TimeSpan Start { get; } = start;

        public TimeSpan End { get; private set; } = TimeSpan.MaxValue;

        public Outcome Outcome { get; private set; }

        public string? Error { get; private set; }

        public bool Finished => _finished;

        public void Finish(Outcome outcome, TimeSpan end, string? error)
        {
            Outcome = outcome;
            End = end;
            Error = error;
            _finished = true;
        }
    }
}
