using System.Diagnostics;
using System.Globalization;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>
/// Three <see cref="FaultyBackend"/> instances (a, b, c) in one round-robin cluster behind the real gateway, with
/// the product's probes, breakers and retries, and a <see cref="SteadyLoad"/> of reads and writes.
/// </summary>
/// <remarks>
/// Settings are the product's defaults (<c>appsettings.json</c>: probe every 2 s, 1 s timeout; breaker: 5 failures
/// in a row, 30 s ejection; retries on) in the long version. The short (CI) version probes every 500 ms and ejects
/// for 2 s, so that a whole fault, its detection and its recovery fit in a few seconds. Both set the cluster's
/// <c>HttpRequest:ActivityTimeout</c>: YARP's default of 100 s would hold every request sent to a hung instance
/// for 100 s; any real deployment sets its own.
/// </remarks>
internal sealed class FaultRig : IAsyncDisposable
{
    public const string Cluster = "svc";

    /// <summary>What each request costs a healthy instance.</summary>
    public static readonly TimeSpan NormalLatency = TimeSpan.FromMilliseconds(20);

    public static readonly TimeSpan ProbeInterval = ReliabilityMode.Pick(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2));

    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan BreakDuration = ReliabilityMode.Pick(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

    public static readonly TimeSpan ActivityTimeout = ReliabilityMode.Pick(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));

    public const int ConsecutiveFailures = 5;

    private const int UnhealthyThreshold = 2;

    private const double Jitter = 0.2;

    /// <summary>
    /// Beyond the probe schedule: the 2-core shared CI machine can stall the probe loop, the store's update and a
    /// request between the gateway's choice and its arrival by a few hundred milliseconds; 1 s covers that.
    /// </summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    private FaultRig(FaultyBackend[] backends, GatewayHost gateway, SteadyLoad load)
    {
        Backends = backends;
        Gateway = gateway;
        Load = load;
    }

    public IReadOnlyList<FaultyBackend> Backends { get; }

    /// <summary>The instance the scenarios break.</summary>
    public FaultyBackend Victim => Backends[1];

    public GatewayHost Gateway { get; }

    public SteadyLoad Load { get; }

    /// <summary>
    /// The longest the gateway can take to learn that an instance publishes <paramref name="state"/>: the probes it
    /// needs (two failures in a row for unhealthy, one for the states an instance declares), each at most a jittered
    /// interval plus the probe timeout apart, plus <see cref="Slack"/>.
    /// </summary>
    public static TimeSpan Grace(HealthState state)
    {
        var probes = state == HealthState.Unhealthy ? UnhealthyThreshold : 1;
        return (probes * ((ProbeInterval * (1 + Jitter)) + ProbeTimeout)) + Slack;
    }

    /// <summary>
    /// Starts the backends, the gateway (ejecting for <paramref name="breakDuration"/>, else <see cref="BreakDuration"/>;
    /// balancing with <paramref name="loadBalancing"/>, by default RoundRobin, whose even spread makes each fault's share predictable)
    /// and the load.
    /// </summary>
    public static async Task<FaultRig> StartAsync(TimeSpan? breakDuration = null, string loadBalancing = "RoundRobin")
    {
        var backends = new FaultyBackend[3];
        string[] names = ["a", "b", "c"];
        for (var i = 0; i < backends.Length; i++)
        {
            backends[i] = await FaultyBackend.StartAsync(names[i], NormalLatency);
            foreach (var state in Enum.GetValues<HealthState>())
            {
                backends[i].SetGrace(state, Grace(state));
            }
        }

        var gateway = await GatewayHost.StartAsync(Settings(backends, breakDuration ?? BreakDuration, loadBalancing));
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(Cluster, [.. names.Select(n => (n, HealthState.Healthy))]);
        var load = new SteadyLoad(
            gateway.Client.BaseAddress!,
            workers: ReliabilityMode.Pick(4, 8),
            ratePerSecond: ReliabilityMode.Pick(40, 100),
            requestTimeout: (ActivityTimeout * 2) + TimeSpan.FromSeconds(10));
        load.Start();
        return new FaultRig(backends, gateway, load);
    }

    /// <summary>The gateway's view of <paramref name="destination"/>: does it route <paramref name="kind"/> there now.</summary>
    public bool Routes(FaultyBackend destination, RequestKind kind) =>
        Gateway.App.Services.GetRequiredService<InstanceHealthStore>().Get(Cluster, destination.Name) is not { } health || health.RoutingState.Accepts(kind);

    /// <summary>Polls <paramref name="condition"/> against a deadline; how long it took, or null if it never held.</summary>
    public static async Task<TimeSpan?> TimeUntilAsync(Func<bool> condition, TimeSpan deadline)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > deadline)
            {
                return null;
            }

            await Task.Delay(10);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Marks the victim and waits until traffic reaches it again; how long that took, or null.</summary>
    public Task<TimeSpan?> TimeUntilReturnedAsync(TimeSpan deadline)
    {
        Victim.Mark();
        return TimeUntilAsync(() => Victim.FirstReceiptAfterMark() is not null, deadline);
    }

    /// <summary>Lets the load run against the current fault for <paramref name="duration"/> (the fault's length is the scenario, not a synchronisation).</summary>
    public static Task HoldAsync(TimeSpan duration) => Task.Delay(duration);

    /// <summary>
    /// Requests that reached an instance after the gateway should have known they must not: writes to any state
    /// but healthy, reads to starting, draining or unhealthy (reads to degraded are allowed), beyond <see cref="Grace"/>.
    /// </summary>
    public long Violations()
    {
        long total = 0;
        foreach (var backend in Backends)
        {
            foreach (var state in Enum.GetValues<HealthState>())
            {
                if (!state.Accepts(RequestKind.Write))
                {
                    total += backend.Late("POST", state);
                }

                if (!state.Accepts(RequestKind.Read))
                {
                    total += backend.Late("GET", state);
                }
            }
        }

        return total;
    }

    /// <summary>Requests the victim received while it published something other than healthy, e.g. <c>POST unhealthy 3</c>.</summary>
    public string VictimNonHealthyReceipts()
    {
        var parts = new List<string>();
        foreach (var state in Enum.GetValues<HealthState>().Where(s => s != HealthState.Healthy))
        {
            foreach (var method in new[] { "GET", "POST" })
            {
                if (Victim.Received(method, state) is var n and > 0)
                {
                    parts.Add(string.Create(CultureInfo.InvariantCulture, $"{method} {state.ToWireName()} {n}"));
                }
            }
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    public async ValueTask DisposeAsync()
    {
        await Load.DisposeAsync();
        await Gateway.DisposeAsync();
        foreach (var backend in Backends)
        {
            await backend.DisposeAsync();
        }
    }

    private static Dictionary<string, string?> Settings(FaultyBackend[] backends, TimeSpan breakDuration, string loadBalancing)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = Cluster,
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            [$"ReverseProxy:Clusters:{Cluster}:LoadBalancingPolicy"] = loadBalancing,
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Enabled"] = "true",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Interval"] = ProbeInterval.ToString(),
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Timeout"] = ProbeTimeout.ToString(),
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Path"] = FaultyBackend.HealthPath,
            [$"ReverseProxy:Clusters:{Cluster}:HttpRequest:ActivityTimeout"] = ActivityTimeout.ToString(),
            ["HealthProxy:Probes:UnhealthyThreshold"] = UnhealthyThreshold.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy:Probes:Jitter"] = Jitter.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy:OutlierDetection:ConsecutiveFailures"] = ConsecutiveFailures.ToString(CultureInfo.InvariantCulture),
            ["HealthProxy:OutlierDetection:BreakDuration"] = breakDuration.ToString(),
        };
        foreach (var backend in backends)
        {
            settings[$"ReverseProxy:Clusters:{Cluster}:Destinations:{backend.Name}:Address"] = backend.Url;
        }

        return settings;
    }
}
