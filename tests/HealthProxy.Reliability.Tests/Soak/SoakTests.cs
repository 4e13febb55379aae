using static System.FormattableString;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Reliability.Tests.Registry;
using HealthProxy.Testing;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Soak;

/// <summary>
/// Issue 10, section 4: the gateway as its own process under steady mixed traffic for a long time, with
/// state churn (a probed instance flapping, a Consul check flapping, an instance joining and leaving via
/// Consul) and 5% of backend answers failing on purpose. Its RSS and open handles must stay flat after
/// warm-up, and it must log no error and no unobserved task exception.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private const string Service = "orders";
    private const double InjectedFailureRatio = 0.05;
    private const double MaxGrowth = 0.10;

    // The churn makes instances unhealthy on purpose, and the gateway logs that at Error (as it should).
    private static readonly HashSet<string> ExpectedErrors = new(StringComparer.Ordinal) { "HealthProxy.Gateway.State.InstanceHealthStore[1002]" };

    private static readonly TimeSpan Duration = ReliabilityMode.Pick(TimeSpan.FromSeconds(80), TimeSpan.FromMinutes(30));
    private static readonly TimeSpan WarmUp = ReliabilityMode.Pick(TimeSpan.FromSeconds(40), TimeSpan.FromMinutes(5));
    private static readonly TimeSpan Window = ReliabilityMode.Pick(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(2));
    private static readonly TimeSpan ChurnEvery = ReliabilityMode.Pick(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));

    [Fact]
    public async Task Soak_MixedLoadWithChurnAndInjectedFailures_ResourcesFlat_NoErrors()
    {
        await using var consul = await ConsulSimulator.StartAsync();
        var backends = new Dictionary<string, SoakBackend>(StringComparer.Ordinal);
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            backends[name] = await SoakBackend.StartAsync(name, InjectedFailureRatio);
        }

        var folder = Directory.CreateTempSubdirectory("healthproxy-soak-");
        try
        {
            foreach (var name in new[] { "a", "b", "c" })
            {
                Register(consul, backends[name]);
            }

            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "appsettings.json"), AppSettings(consul.Address));
            await using var gateway = GatewayProcess.Start(folder.FullName);
            var baseAddress = await gateway.ListeningAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(10) };
            await Eventually.HoldsAsync(async () => (await GatewaySignals.ReadinessAsync(client)).StartsWith("200 ", StringComparison.Ordinal), "the gateway process is ready", TimeSpan.FromSeconds(60));

            var samples = new List<(TimeSpan At, long Rss, int Handles)>();
            var churnSteps = 0;
            var clock = Stopwatch.StartNew();
            await using (var load = new MixedLoad(client, workers: 4, pace: TimeSpan.FromMilliseconds(50), r => r.Headers.Contains(SoakBackend.InjectedHeader)))
            {
                using var sampleTimer = new PeriodicTimer(TimeSpan.FromSeconds(1));
                var nextChurn = ChurnEvery;
                while (clock.Elapsed < Duration && !gateway.HasExited)
                {
                    await sampleTimer.WaitForNextTickAsync();
                    samples.Add((clock.Elapsed, gateway.ResidentBytes(), gateway.OpenHandles()));
                    if (clock.Elapsed >= nextChurn)
                    {
                        Churn(consul, backends, churnSteps++);
                        nextChurn += ChurnEvery;
                    }
                }

                await load.StopAsync();
                var exitedEarly = gateway.HasExited;

                var warm = samples.Where(s => s.At >= WarmUp && s.At < WarmUp + Window).ToList();
                var last = samples.Where(s => s.At >= clock.Elapsed - Window).ToList();
                var rssBefore = Median(warm.Select(s => (double)s.Rss));
                var rssAfter = Median(last.Select(s => (double)s.Rss));
                var handlesBefore = Median(warm.Select(s => (double)s.Handles));
                var handlesAfter = Median(last.Select(s => (double)s.Handles));
                var rssGrowth = (rssAfter - rssBefore) / rssBefore;
                var handleGrowth = (handlesAfter - handlesBefore) / handlesBefore;
                var injected = backends.Values.Sum(b => b.Injected);

                var problems = new List<string>();
                if (exitedEarly)
                {
                    problems.Add("the gateway process exited");
                }

                if (rssGrowth >= MaxGrowth)
                {
                    problems.Add($"RSS grew {rssGrowth:P1}");
                }

                if (handleGrowth >= MaxGrowth)
                {
                    problems.Add($"open handles grew {handleGrowth:P1}");
                }

                var expectedErrors = gateway.ErrorsBySource.Where(e => ExpectedErrors.Contains(e.Key)).Sum(e => e.Value);
                var unexpectedErrors = gateway.Errors - expectedErrors;
                if (unexpectedErrors > 0)
                {
                    problems.Add("unexpected error logs: " + string.Join(" / ", gateway.ErrorSamples(ExpectedErrors)));
                }

                if (gateway.UnobservedTaskExceptions > 0)
                {
                    problems.Add($"{gateway.UnobservedTaskExceptions} unobserved task exceptions");
                }

                if (load.Failures > 0)
                {
                    problems.Add("unexpected client failures: " + string.Join("; ", load.FailureSamples));
                }

                if (injected == 0 || churnSteps < 4)
                {
                    problems.Add("the soak injected no failures or no churn");
                }

                var details = Invariant($"{clock.Elapsed.TotalMinutes:0.#} min, warm-up {WarmUp.TotalSeconds:0}s; RSS {rssBefore / 1048576:0.0} -> {rssAfter / 1048576:0.0} MiB ({rssGrowth:+0.0%;-0.0%}), peak {samples.Max(s => s.Rss) / 1048576.0:0.0} MiB; ") +
                    Invariant($"fds {handlesBefore:0} -> {handlesAfter:0} ({handleGrowth:+0.0%;-0.0%}), peak {samples.Max(s => s.Handles)}; backend failures injected {injected}, reached clients {load.ExpectedFailures}; ") +
                    Invariant($"churn steps {churnSteps}; gateway logs: {unexpectedErrors} unexpected error, {expectedErrors} expected error (instance made unhealthy by the churn), {gateway.Warnings} warning, {gateway.UnobservedTaskExceptions} unobserved task exceptions") +
                    (problems.Count > 0 ? "; PROBLEMS: " + string.Join("; ", problems) : "");
                output.WriteLine("samples (s, RSS MiB, fds): " + string.Join(" ", samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.At.TotalSeconds:0}:{s.Rss / 1048576.0:0.0}:{s.Handles}"))));
                ScenarioTable.Report(output, new ScenarioResult("soak", $"mixed load, churn, {InjectedFailureRatio:P0} injected failures", load.Requests, load.Failures, problems.Count == 0, details));
            }
        }
        finally
        {
            foreach (var backend in backends.Values)
            {
                await backend.DisposeAsync();
            }

            folder.Delete(recursive: true);
        }
    }

    /// <summary>One step of churn: d joins or leaves through Consul, c's probe answer flips, b's Consul check flips.</summary>
    private static void Churn(ConsulSimulator consul, Dictionary<string, SoakBackend> backends, int step)
    {
        switch (step % 4)
        {
            case 0:
                Register(consul, backends["d"]);
                break;
            case 1:
                backends["c"].Healthy = !backends["c"].Healthy;
                break;
            case 2:
                consul.DeregisterService($"{Service}-d");
                break;
            default:
                consul.SetCheckStatus("check-b", step % 8 == 3 ? "critical" : "passing");
                break;
        }
    }

    private static void Register(ConsulSimulator consul, SoakBackend backend) => consul.RegisterService(new SimulatedService
    {
        Name = Service,
        ID = $"{Service}-{backend.Name}",
        Address = "127.0.0.1",
        Port = backend.Port,
        Checks = [new SimulatedCheck { CheckID = "check-" + backend.Name, Status = "passing" }],
    });

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static string AppSettings(Uri consul) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["Logging"] = new Dictionary<string, object>
        {
            ["LogLevel"] = new Dictionary<string, string> { ["Default"] = "Warning", ["Microsoft.Hosting.Lifetime"] = "Information" },
            ["Console"] = new Dictionary<string, object> { ["FormatterName"] = "simple", ["FormatterOptions"] = new Dictionary<string, object> { ["SingleLine"] = true } },
        },
        ["HealthProxy"] = new Dictionary<string, object>
        {
            ["Consul"] = new Dictionary<string, string> { ["Address"] = consul.ToString() },
            ["Discovery"] = new Dictionary<string, string> { ["Wait"] = "00:00:10", ["RetryMaxDelay"] = "00:00:01" },
            ["Probes"] = new Dictionary<string, object> { ["UnhealthyThreshold"] = 2 },
        },
        ["ReverseProxy"] = new Dictionary<string, object>
        {
            ["Routes"] = new Dictionary<string, object>
            {
                ["all"] = new Dictionary<string, object> { ["ClusterId"] = Service, ["Match"] = new Dictionary<string, string> { ["Path"] = "/{**rest}" } },
            },
            ["Clusters"] = new Dictionary<string, object>
            {
                [Service] = new Dictionary<string, object>
                {
                    ["LoadBalancingPolicy"] = "RoundRobin",
                    ["Metadata"] = new Dictionary<string, string> { ["consul.service"] = Service },
                    ["HealthCheck"] = new Dictionary<string, object>
                    {
                        ["Active"] = new Dictionary<string, object> { ["Enabled"] = true, ["Interval"] = "00:00:00.500", ["Timeout"] = "00:00:01", ["Path"] = SoakBackend.HealthPath },
                    },
                },
            },
        },
    });
}
