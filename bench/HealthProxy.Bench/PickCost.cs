using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Bench;

/// <summary>
/// ns and bytes per pick of the gateway's HealthWeighted policy against YARP's own PowerOfTwoChoices (taken from
/// YARP's service registrations), on the same cluster and the same available destinations: the routing snapshot's
/// read set. One thread, N picks per case after a warm-up.
/// </summary>
internal static class PickCost
{
    public static int Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5_000_000;
        using var services = new ServiceCollection().AddMetrics().AddReverseProxy().Services.BuildServiceProvider();
        var yarp = services.GetServices<ILoadBalancingPolicy>().Single(p => p.Name == LoadBalancingPolicies.PowerOfTwoChoices);
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>());
        var context = new DefaultHttpContext();

        Console.WriteLine($"load-balancing pick, {iterations:N0} picks each, one thread; nproc {Environment.ProcessorCount}, load average {RoutingAllocation.LoadAverage()}");
        Console.WriteLine($"{"case",-44} {"policy",-18} {"ns/pick",9} {"B/pick",8}");
        foreach (var (name, size, slowStart) in new[] { ("3 instances (2 healthy, 1 degraded)", 3, false), ("3 instances, one in slow start", 3, true), ("100 instances (1 in 10 degraded)", 100, false) })
        {
            var table = new RoutingTable();
            var now = DateTimeOffset.UtcNow;
            var destinations = Enumerable.Range(0, size)
                .Select(i => new DestinationState($"d{i:D3}", new DestinationModel(new DestinationConfig { Address = "http://backend.invalid", Metadata = new Dictionary<string, string> { [HealthProxyMetadata.Weight] = (1 + (i % 3)).ToString(System.Globalization.CultureInfo.InvariantCulture) } })))
                .ToArray();
            var health = destinations.Select((d, i) => new InstanceHealth("svc", d.DestinationId, i % 10 == 2 ? HealthState.Degraded : HealthState.Healthy, HealthSource.Probe, now, slowStart && i == 0 ? now : null))
                .ToDictionary(h => h.DestinationId);
            var settings = WeightSettings.Default with { SlowStartWindow = slowStart ? TimeSpan.FromHours(1) : TimeSpan.Zero };
            var routing = ClusterRouting.Build("svc", destinations, health, null, null, settings, now);
            table.Set(routing);
            var cluster = new ClusterState("svc");
            var policy = new HealthWeightedPolicy(TimeProvider.System, metrics);
            var available = routing.Reads;
            foreach (var candidate in new ILoadBalancingPolicy[] { yarp, policy })
            {
                var (ns, bytes) = PerCall.Measure(() => candidate.PickDestination(context, cluster, available), iterations, warmup: 1_000_000);
                Console.WriteLine($"{name,-44} {candidate.Name,-18} {ns,9:F1} {bytes,8:F2}");
            }

            var (drawNs, _) = PerCall.Measure(() => HealthWeightedPolicy.Pick(routing.ReadSet, settings, now, slowStart, 0), iterations, warmup: 0);
            Console.WriteLine($"{name,-44} {"(draws only)",-18} {drawNs,9:F1}");
        }

        return 0;
    }
}
