using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Bench;

/// <summary>
/// The probe monitor's bookkeeping alone (no network, probers not started): time to add C clusters
/// x D destinations one cluster at a time (what YARP's listener calls do at startup), then the median
/// time of one cluster change (one destination added) and one cluster removal/re-add.
/// </summary>
internal static class ProbeReconcile
{
    public static int Run(string[] args)
    {
        var clusters = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var dests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
        Console.WriteLine($"probe monitor reconcile, {clusters} clusters x {dests} destinations; nproc {Environment.ProcessorCount}, load average {RoutingAllocation.LoadAverage()}");
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>());
        var store = new InstanceHealthStore(new RoutingTable(), TimeProvider.System, metrics, NullLogger<InstanceHealthStore>.Instance);
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        var states = Enumerable.Range(0, clusters).Select(c => Cluster($"c{c}", dests, invoker)).ToList();

        for (var run = 1; run <= 3; run++)
        {
            using var monitor = new ActiveProbeMonitor(new RequestFactory(), store, metrics, Options.Create(new ProbeOptions()), TimeProvider.System, NullLogger<ActiveProbeMonitor>.Instance);
            var sw = Stopwatch.StartNew();
            foreach (var s in states)
            {
                monitor.OnClusterAdded(s);
            }

            var addAll = sw.Elapsed.TotalMilliseconds;
            var changes = new List<double>();
            for (var i = 0; i < 21; i++)
            {
                var s = states[i * 37 % clusters];
                var id = $"extra-{i}";
                s.Destinations.TryAdd(id, new DestinationState(id, new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" })));
                sw.Restart();
                monitor.OnClusterChanged(s);
                changes.Add(sw.Elapsed.TotalMilliseconds);
                s.Destinations.TryRemove(id, out _);
                monitor.OnClusterChanged(s);
            }

            changes.Sort();
            Console.WriteLine($"run {run}: add {clusters} clusters {addAll,9:F1} ms ({monitor.ProberCount} probers); one cluster change p50 {changes[10]:F3} ms, max {changes[^1]:F3} ms; load1 {RoutingAllocation.LoadAverage().Split(' ')[0]}");
        }

        return 0;
    }

    private static ClusterState Cluster(string id, int destinations, HttpMessageInvoker invoker)
    {
        var config = new ClusterConfig
        {
            ClusterId = id,
            HealthCheck = new HealthCheckConfig { Active = new ActiveHealthCheckConfig { Enabled = true, Interval = TimeSpan.FromSeconds(5) } },
        };
        var cluster = new ClusterState(id, new ClusterModel(config, invoker));
        for (var d = 0; d < destinations; d++)
        {
            var destinationId = $"{id}-{d}";
            cluster.Destinations.TryAdd(destinationId, new DestinationState(destinationId, new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" })));
        }

        return cluster;
    }

    private sealed class RequestFactory : IProbingRequestFactory
    {
        public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination) =>
            new(HttpMethod.Get, new Uri(destination.Config.Address));
    }
}
