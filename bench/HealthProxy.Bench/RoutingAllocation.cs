using HealthProxy.Gateway.GrpcRouting;
using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Bench;

/// <summary>
/// Bytes allocated per request by the gateway's own routing step (HealthRoutingMiddleware, which does
/// RequestKinds.Classify and the RoutingTable lookup), measured with
/// GC.GetAllocatedBytesForCurrentThread over N calls on one thread. The HttpContext and YARP's
/// feature are built once, outside the measurement, so only our code is counted.
/// </summary>
internal static class RoutingAllocation
{
    public static int Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>());

        // Also count what a metrics listener would make the fallback counter allocate.
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => { });
        listener.Start();

        var table = new RoutingTable();
        var store = new InstanceHealthStore(table, TimeProvider.System, metrics, NullLogger<InstanceHealthStore>.Instance);
        var middleware = new HealthRoutingMiddleware(_ => Task.CompletedTask, table, new GrpcCalls(AppContext.BaseDirectory), metrics, new GatewayTracing(false, store), NullLogger<HealthRoutingMiddleware>.Instance);

        Console.WriteLine($"routing step allocation, {iterations:N0} calls per case, one thread; nproc {Environment.ProcessorCount}, load average {LoadAverage()}");
        Console.WriteLine($"{"case",-44} {"B/request",10} {"ns/request",11}");
        var cases = new (string Name, string Method, HealthState[] States, string? DeclaredKind)[]
        {
            ("GET, 3 healthy", "GET", [HealthState.Healthy, HealthState.Healthy, HealthState.Healthy], null),
            ("POST, 1 degraded of 3 (write set smaller)", "POST", [HealthState.Healthy, HealthState.Degraded, HealthState.Healthy], null),
            ("POST, route metadata says Read", "POST", [HealthState.Healthy, HealthState.Degraded, HealthState.Healthy], "Read"),
            ("GET, all unhealthy (fallback, counted)", "GET", [HealthState.Unhealthy, HealthState.Unhealthy, HealthState.Unhealthy], null),
            ("GET, 10 of 10,000 clusters' table", "GET", [HealthState.Healthy, HealthState.Healthy, HealthState.Healthy], null),
        };

        var worst = 0.0;
        foreach (var (name, method, states, declared) in cases)
        {
            var clusterId = "c-" + name.GetHashCode(StringComparison.Ordinal).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
            if (name.Contains("10,000", StringComparison.Ordinal))
            {
                for (var i = 0; i < 1000; i++)
                {
                    Fill(table, "filler-" + i, [HealthState.Healthy, HealthState.Healthy]);
                }
            }

            Fill(table, clusterId, states);
            var context = Context(clusterId, method, declared);
            var (ns, perRequest) = PerCall.Measure(() => _ = middleware.InvokeAsync(context), iterations, warmup: 10_000);
            worst = Math.Max(worst, perRequest);
            Console.WriteLine($"{name,-44} {perRequest,10:F3} {ns,11:F1}");
        }

        Console.WriteLine(worst == 0 ? "target 0 B/request: PASS" : $"target 0 B/request: FAIL ({worst:F3} B)");
        return worst == 0 ? 0 : 1;
    }

    private static void Fill(RoutingTable table, string clusterId, HealthState[] states)
    {
        var destinations = new List<DestinationState>();
        var health = new Dictionary<string, InstanceHealth>(StringComparer.Ordinal);
        for (var i = 0; i < states.Length; i++)
        {
            var id = "d" + i;
            destinations.Add(new DestinationState(id));
            health[id] = new InstanceHealth(clusterId, id, states[i], HealthSource.Probe, DateTimeOffset.UnixEpoch);
        }

        table.TryGet(clusterId, out var previous);
        table.Set(ClusterRouting.Build(clusterId, destinations, health, previous));
    }

    private static DefaultHttpContext Context(string clusterId, string method, string? declaredKind)
    {
        var route = new RouteConfig
        {
            RouteId = "r-" + clusterId,
            ClusterId = clusterId,
            Match = new RouteMatch { Path = "/{**rest}" },
            Metadata = declaredKind is null ? null : new Dictionary<string, string> { [HealthProxyMetadata.RequestKind] = declaredKind },
        };
        var cluster = new ClusterState(clusterId, new ClusterModel(new ClusterConfig { ClusterId = clusterId }, new HttpMessageInvoker(new SocketsHttpHandler())));
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Features.Set<IReverseProxyFeature>(new Feature(new RouteModel(route, cluster, HttpTransformer.Default), cluster.Model));
        return context;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>YARP's proxy feature as a request carries it after routing; shared with <see cref="StepCost"/>.</summary>
    internal sealed class Feature(RouteModel route, ClusterModel cluster) : IReverseProxyFeature
    {
        public RouteModel Route { get; } = route;

        public ClusterModel Cluster { get; set; } = cluster;

        public IReadOnlyList<DestinationState> AllDestinations { get; } = [];

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = [];

        public DestinationState? ProxiedDestination { get; set; }
    }
}
