using HealthProxy.Gateway.GrpcRouting;
using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Bench;

/// <summary>
/// CPU and bytes per call of each step the gateway adds to a proxied request, with the rest of the
/// pipeline (YARP's forwarder) replaced by a completed task: HealthRoutingMiddleware (with Hosting's metrics tags
/// feature present, as when a meter listener is on, so its three tags are counted), ResilienceMiddleware on a
/// destination that is not ejected, and the opt-in RequestMetricsMiddleware (with an OpenTelemetry meter
/// provider listening). One thread, N calls per step after a warm-up; what is left of a request's cost beyond
/// these is YARP's and ASP.NET Core's.
/// </summary>
internal static class StepCost
{
    public static int Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var metrics = new GatewayMetrics(meterFactory);
        using var reader = new BaseExportingMetricReader(new NoExport());
        using var meterProvider = Sdk.CreateMeterProviderBuilder().AddMeter(GatewayMetrics.MeterName).AddReader(reader).Build();

        const string clusterId = "svc";
        var table = new RoutingTable();
        var store = new InstanceHealthStore(table, TimeProvider.System, metrics, NullLogger<InstanceHealthStore>.Instance);
        var detector = new OutlierDetector(Options.Create(new OutlierDetectionOptions()), Options.Create(new RetryOptions()), store, TimeProvider.System, metrics, NullLogger<OutlierDetector>.Instance);
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        var cluster = new ClusterState(clusterId, new ClusterModel(new ClusterConfig { ClusterId = clusterId }, invoker));
        DestinationState[] destinations = [new("a"), new("b"), new("c")];
        foreach (var destination in destinations)
        {
            cluster.Destinations.TryAdd(destination.DestinationId, destination);
        }

        store.OnClusterAdded(cluster);
        detector.OnClusterAdded(cluster);

        var route = new RouteConfig { RouteId = "r", ClusterId = clusterId, Match = new RouteMatch { Path = "/{**rest}" } };
        var feature = new RoutingAllocation.Feature(new RouteModel(route, cluster, HttpTransformer.Default), cluster.Model);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Response.StatusCode = 200;
        context.Features.Set<IReverseProxyFeature>(feature);
        var tags = new MetricsTags();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpMetricsTagsFeature>(tags);

        RequestDelegate done = _ => Task.CompletedTask;
        var requestMetrics = new RequestMetricsMiddleware(done, metrics, TimeProvider.System);
        var tracing = new GatewayTracing(false, store);
        var routing = new HealthRoutingMiddleware(done, table, new GrpcCalls(AppContext.BaseDirectory), metrics, tracing, NullLogger<HealthRoutingMiddleware>.Instance);
        var resilience = new ResilienceMiddleware(done, detector, new RouteResilienceTable(), table, metrics, tracing, Options.Create(new RetryOptions()), NullLogger<ResilienceMiddleware>.Instance);
        IReadOnlyList<DestinationState> chosen = [destinations[0]];
        var steps = new (string Name, Func<Task> Invoke, Action Reset)[]
        {
            ("HealthRoutingMiddleware (classify, tag, lookup)", () => routing.InvokeAsync(context), () =>
            {
                feature.AvailableDestinations = destinations;
                tags.Tags.Clear();   // as Hosting does between a connection's requests
            }),
            ("ResilienceMiddleware (not ejected, counted)", () => resilience.InvokeAsync(context), () => feature.AvailableDestinations = chosen),
            ("RequestMetricsMiddleware (opt-in legacy histogram)", () => requestMetrics.InvokeAsync(context), () => { }),
        };

        Console.WriteLine($"per-request steps, {iterations:N0} calls each, one thread, next() completed; nproc {Environment.ProcessorCount}, load average {RoutingAllocation.LoadAverage()}");
        Console.WriteLine($"{"step",-48} {"ns/call",9} {"B/call",8}");
        foreach (var (name, invoke, reset) in steps)
        {
            var (ns, bytes) = PerCall.Measure(
                () =>
                {
                    reset();
                    invoke().GetAwaiter().GetResult();
                },
                iterations,
                warmup: 20_000);
            Console.WriteLine($"{name,-48} {ns,9:F1} {bytes,8:F1}");
        }

        detector.Dispose();
        return 0;
    }

    /// <summary>What Hosting puts on a request while its duration histogram is listened to.</summary>
    private sealed class MetricsTags : Microsoft.AspNetCore.Http.Features.IHttpMetricsTagsFeature
    {
        public ICollection<KeyValuePair<string, object?>> Tags { get; } = new List<KeyValuePair<string, object?>>();

        public bool MetricsDisabled { get; set; }
    }

    private sealed class NoExport : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
