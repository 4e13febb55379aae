using System.Diagnostics;
using System.Globalization;
using System.Net;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>
/// Issue 10, section 1, continued: traffic that looks like a failure but is not the instance's fault, beside the
/// steady reads and writes. Neither may eject an instance or cost the steady load a request.
/// </summary>
/// <remarks>
/// Three <see cref="ScriptedBackend"/> instances (a, b, c) behind the real gateway with <see cref="FaultRig"/>'s
/// probe, breaker and retry settings. An upload refused early (413, then a close) says the request was too big, not
/// that the instance is sick; a long poll that stays silent for longer than the cluster's activity timeout is fine
/// on a route that gives itself a longer one.
/// </remarks>
public sealed class BackendEdgeTrafficTests(ITestOutputHelper output)
{
    private const string Suite = "backend";

    private static readonly TimeSpan Warmup = ReliabilityMode.Pick(TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));

    private static readonly TimeSpan UploadTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The cluster's activity timeout in the long-poll scenario: shorter than every poll.</summary>
    private static readonly TimeSpan ClusterActivityTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The poll route's own activity timeout.</summary>
    private static readonly TimeSpan PollActivityTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The shortest a long poll stays silent (the backend adds up to 1 s).</summary>
    private static readonly TimeSpan PollLatency = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task UploadsRefusedEarly_413AndClose_InstanceNotEjected_SteadyLoadUnaffected()
    {
        var wanted = ReliabilityMode.Pick(12, 48);
        var backends = Start(refusing: "b", pollLatency: PollLatency);
        var victim = backends[1];
        try
        {
            await using var gateway = await StartGatewayAsync(backends, FaultRig.ActivityTimeout, pollRoute: false);
            await using var load = StartLoad(gateway, FaultRig.ActivityTimeout);
            using var watch = new EjectionWatch(gateway, [.. backends.Select(b => b.Name)]);
            await FaultRig.HoldAsync(Warmup);

            // One upload at a time, so the victim's counter says which of them reached it; round-robin spreads them,
            // so a bounded number more than the wanted dozen are sent to give it its dozen.
            using var client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = gateway.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            var atVictim = new Dictionary<string, int>(StringComparer.Ordinal);
            var elsewhere = new Dictionary<string, int>(StringComparer.Ordinal);
            var sent = 0;
            var maxUploads = wanted * 6;
            var payload = new byte[4 * 1024 * 1024];
            var started = Stopwatch.GetTimestamp();
            while (victim.Uploads < wanted && sent < maxUploads)
            {
                var before = victim.Uploads;
                var outcome = await UploadAsync(client, payload);
                sent++;
                var tally = victim.Uploads > before ? atVictim : elsewhere;
                tally[outcome] = tally.GetValueOrDefault(outcome) + 1;
            }

            var uploadsTook = Stopwatch.GetElapsedTime(started);

            // The breaker would eject within ConsecutiveFailures of them; give it a last probe round to show it.
            await FaultRig.HoldAsync(FaultRig.Grace(HealthState.Unhealthy));
            await load.StopAsync();
            var ejections = await watch.StopAsync();

            var refused = atVictim.GetValueOrDefault("413");
            var reset = atVictim.GetValueOrDefault("502");
            var badAtVictim = atVictim.Where(o => o.Key is not ("413" or "502")).Sum(o => o.Value);
            var badElsewhere = elsewhere.Where(o => o.Key is not ("200 a" or "200 c")).Sum(o => o.Value);
            var reached = atVictim.Values.Sum();
            var failures = load.Failures(RequestKind.Read) + load.Failures(RequestKind.Write) + badAtVictim + badElsewhere;
            var passed = reached >= wanted
                && refused > 0
                && badAtVictim == 0
                && badElsewhere == 0
                && ejections.Count == 0
                && load.Failures(RequestKind.Read) + load.Failures(RequestKind.Write) == 0
                && backends.Sum(b => b.Malformed) == 0;
            var details = string.Join(
                "; ",
                Invariant($"4 MB uploads sent {sent} in {uploadsTook.TotalSeconds:0.0}s, {reached} reached b (wanted {wanted}): {Outcomes(atVictim)}; elsewhere: {Outcomes(elsewhere)}"),
                Invariant($"413 {refused}, 502 {reset}, other at b {badAtVictim}, not 200 elsewhere {badElsewhere}"),
                $"ejections seen: {(ejections.Count == 0 ? "none" : string.Join(", ", ejections))}",
                LoadDetails(load, backends));
            ScenarioTable.Report(output, new ScenarioResult(Suite, "uploads the instance refuses early (413 and close) under load", load.TotalRequests + sent, failures, passed, details));
        }
        finally
        {
            Dispose(backends);
        }
    }

    [Fact]
    public async Task LongPollRouteSilentLongerThanTheClustersActivityTimeout_EveryPollAnswered_NothingEjected()
    {
        var pollers = ReliabilityMode.Pick(3, 6);
        var rounds = ReliabilityMode.Pick(3, 10);
        var backends = Start(refusing: null, pollLatency: PollLatency);
        try
        {
            await using var gateway = await StartGatewayAsync(backends, ClusterActivityTimeout, pollRoute: true);
            await using var load = StartLoad(gateway, ClusterActivityTimeout);
            using var watch = new EjectionWatch(gateway, [.. backends.Select(b => b.Name)]);
            await FaultRig.HoldAsync(Warmup);

            using var client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = gateway.Client.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            var polls = await Task.WhenAll(Enumerable.Range(0, pollers).Select(_ => PollAsync(client, rounds)));
            var results = polls.SelectMany(p => p).ToList();

            // The control: the same silence on the catch-all route, which has only the cluster's timeout, is cut.
            var control = await TimedGetAsync(client, ScriptedBackend.PollPath + "/control");
            await load.StopAsync();
            var ejections = await watch.StopAsync();

            var answered = results.Count(r => r.Outcome.StartsWith("200 ", StringComparison.Ordinal));
            var outcomes = results.GroupBy(r => r.Outcome.StartsWith("200 ", StringComparison.Ordinal) ? "200" : r.Outcome, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var silences = results.Where(r => r.Outcome.StartsWith("200 ", StringComparison.Ordinal)).Select(r => r.Took).DefaultIfEmpty().ToList();
            var shortest = silences.Min();
            var longest = silences.Max();
            var steadyFailures = load.Failures(RequestKind.Read) + load.Failures(RequestKind.Write);
            var passed = results.Count == pollers * rounds
                && answered == results.Count
                && shortest > ClusterActivityTimeout
                && control.Outcome == "504"
                && ejections.Count == 0
                && steadyFailures == 0
                && backends.Sum(b => b.Malformed) == 0;
            var details = string.Join(
                "; ",
                Invariant($"long polls {results.Count} ({pollers} clients x {rounds}): {Outcomes(outcomes)}; silent {shortest.TotalSeconds:0.00}-{longest.TotalSeconds:0.00}s against the cluster's {ClusterActivityTimeout.TotalSeconds:0}s (route's {PollActivityTimeout.TotalSeconds:0}s)"),
                Invariant($"same silence on the catch-all route: {control.Outcome} after {control.Took.TotalSeconds:0.00}s (want 504)"),
                $"ejections seen: {(ejections.Count == 0 ? "none" : string.Join(", ", ejections))}",
                LoadDetails(load, backends));
            ScenarioTable.Report(output, new ScenarioResult(Suite, "long-poll route silent longer than the cluster's ActivityTimeout", load.TotalRequests + results.Count, steadyFailures + (results.Count - answered), passed, details));
        }
        finally
        {
            Dispose(backends);
        }
    }

    private static ScriptedBackend[] Start(string? refusing, TimeSpan pollLatency) =>
        [.. new[] { "a", "b", "c" }.Select(n => new ScriptedBackend(n, FaultRig.NormalLatency, pollLatency, refusesUploads: n == refusing))];

    private static void Dispose(ScriptedBackend[] backends)
    {
        foreach (var backend in backends)
        {
            backend.Dispose();
        }
    }

    private static async Task<GatewayHost> StartGatewayAsync(ScriptedBackend[] backends, TimeSpan activityTimeout, bool pollRoute)
    {
        var cluster = FaultRig.Cluster;
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = cluster,
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            [$"ReverseProxy:Clusters:{cluster}:LoadBalancingPolicy"] = "RoundRobin",
            [$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled"] = "true",
            [$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Interval"] = FaultRig.ProbeInterval.ToString(),
            [$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Timeout"] = FaultRig.ProbeTimeout.ToString(),
            [$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Path"] = FaultyBackend.HealthPath,
            [$"ReverseProxy:Clusters:{cluster}:HttpRequest:ActivityTimeout"] = activityTimeout.ToString(),
            ["HealthProxy:Probes:UnhealthyThreshold"] = "2",
            ["HealthProxy:Probes:Jitter"] = "0.2",
            ["HealthProxy:OutlierDetection:ConsecutiveFailures"] = FaultRig.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy:OutlierDetection:BreakDuration"] = FaultRig.BreakDuration.ToString(),
        };
        if (pollRoute)
        {
            settings["ReverseProxy:Routes:poll:ClusterId"] = cluster;
            settings["ReverseProxy:Routes:poll:Order"] = "-2";
            settings["ReverseProxy:Routes:poll:Match:Path"] = ScriptedBackend.PollPath;
            settings["ReverseProxy:Routes:poll:Metadata:HealthProxy.PassiveHealth"] = "false";
            settings["ReverseProxy:Routes:poll:Metadata:HealthProxy.Retries"] = "false";
            settings["ReverseProxy:Routes:poll:Metadata:HealthProxy.ActivityTimeout"] = PollActivityTimeout.ToString();
        }

        foreach (var backend in backends)
        {
            settings[$"ReverseProxy:Clusters:{cluster}:Destinations:{backend.Name}:Address"] = backend.Url;
        }

        var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(cluster, [.. backends.Select(b => (b.Name, HealthState.Healthy))]);
        return gateway;
    }

    private static SteadyLoad StartLoad(GatewayHost gateway, TimeSpan activityTimeout)
    {
        var load = new SteadyLoad(
            gateway.Client.BaseAddress!,
            workers: ReliabilityMode.Pick(4, 8),
            ratePerSecond: ReliabilityMode.Pick(40, 100),
            requestTimeout: (activityTimeout * 2) + TimeSpan.FromSeconds(10));
        load.Start();
        return load;
    }

    /// <summary>One 4 MB upload: <c>413</c>, <c>502</c>, <c>200 a</c> (status and the instance that answered), or the client's error.</summary>
    private static async Task<string> UploadAsync(HttpClient client, byte[] payload)
    {
        using var deadline = new CancellationTokenSource(UploadTimeout);
        try
        {
            using var response = await client.PostAsync(ScriptedBackend.UploadPath, new ByteArrayContent(payload), deadline.Token);
            await response.Content.LoadIntoBufferAsync(deadline.Token);
            var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            return response.StatusCode == HttpStatusCode.OK && response.Headers.TryGetValues("X-Served-By", out var by) ? $"{status} {by.First()}" : status;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return "client timeout";
        }
        catch (HttpRequestException ex)
        {
            return $"transport {ex.HttpRequestError}";
        }
    }

    private static async Task<List<(string Outcome, TimeSpan Took)>> PollAsync(HttpClient client, int rounds)
    {
        var results = new List<(string, TimeSpan)>(rounds);
        for (var i = 0; i < rounds; i++)
        {
            results.Add(await TimedGetAsync(client, ScriptedBackend.PollPath));
        }

        return results;
    }

    /// <summary>A GET with its own deadline: <c>200 a</c> (status and the body, the instance's name), the status, or the client's error; and how long it took.</summary>
    private static async Task<(string Outcome, TimeSpan Took)> TimedGetAsync(HttpClient client, string path)
    {
        using var deadline = new CancellationTokenSource(PollTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.GetAsync(path, deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            return (response.StatusCode == HttpStatusCode.OK ? $"{status} {body}" : status, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return ("client timeout", Stopwatch.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            return ($"transport {ex.HttpRequestError}", Stopwatch.GetElapsedTime(started));
        }
    }

    private static string Outcomes(Dictionary<string, int> outcomes) =>
        outcomes.Count == 0 ? "none" : string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => Invariant($"{o.Key} x{o.Value}")));

    private static string LoadDetails(SteadyLoad load, ScriptedBackend[] backends) => string.Join(
        "; ",
        Invariant($"steady load failed reads {load.Failures(RequestKind.Read)}/{load.Requests(RequestKind.Read)}, writes {load.Failures(RequestKind.Write)}/{load.Requests(RequestKind.Write)} (allowed 0; {load.FailureReasons})"),
        $"served {string.Join(" ", backends.Select(b => Invariant($"{b.Name} {load.ServedBy(b.Name)}")))}",
        Invariant($"unparsed at backends {backends.Sum(b => b.Malformed)}; load ticks skipped {load.Skipped}"));

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>
    /// Samples the gateway's view of each instance every 10 ms (an ejection lasts <see cref="FaultRig.BreakDuration"/>,
    /// far longer) and keeps the first time each one was judged unhealthy, with the source that judged it.
    /// </summary>
    private sealed class EjectionWatch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<List<string>> _watching;

        public EjectionWatch(GatewayHost gateway, string[] destinations)
        {
            var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();
            _watching = WatchAsync(store, destinations, _stop.Token);
        }

        /// <summary>Stops sampling; each instance seen unhealthy, e.g. <c>b unhealthy (Breaker) at 3.20s</c>.</summary>
        public async Task<List<string>> StopAsync()
        {
            await _stop.CancelAsync();
            return await _watching;
        }

        public void Dispose()
        {
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }

            _stop.Dispose();
        }

        private static async Task<List<string>> WatchAsync(InstanceHealthStore store, string[] destinations, CancellationToken stop)
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            var started = Stopwatch.GetTimestamp();
            while (!stop.IsCancellationRequested)
            {
                foreach (var destination in destinations)
                {
                    if (!seen.ContainsKey(destination) && store.Get(FaultRig.Cluster, destination) is { State: HealthState.Unhealthy } health)
                    {
                        seen[destination] = Invariant($"{destination} unhealthy ({health.Source}) at {Stopwatch.GetElapsedTime(started).TotalSeconds:0.00}s");
                    }
                }

                try
                {
                    await Task.Delay(10, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return [.. seen.Values];
        }
    }
}
