using HealthProxy.Gateway.GrpcRouting;
using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class ResilienceMiddlewareTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler());
    private readonly RoutingTable _table = new();
    private readonly InstanceHealthStore _store;
    private readonly OutlierDetector _detector;
    private readonly GatewayMetrics _metrics;
    private readonly ClusterState _cluster;
    private readonly DestinationState[] _destinations = [new("a"), new("b")];

    public ResilienceMiddlewareTests()
    {
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(_table, TimeProvider.System, _metrics, NullLogger<InstanceHealthStore>.Instance);
        _detector = new OutlierDetector(
            Options.Create(new OutlierDetectionOptions { ConsecutiveFailures = 3, MaxEjectionPercent = 50 }), Options.Create(new RetryOptions()), _store, TimeProvider.System, _metrics, NullLogger<OutlierDetector>.Instance);
        _cluster = new ClusterState("svc", new ClusterModel(new ClusterConfig { ClusterId = "svc" }, _invoker));
        foreach (var destination in _destinations)
        {
            _cluster.Destinations.TryAdd(destination.DestinationId, destination);
        }

        _store.OnClusterAdded(_cluster);
        _detector.OnClusterAdded(_cluster);
    }

    [Fact]
    public async Task InvokeAsync_DestinationNotEjectedAndAnswering_AllocatesNothing()
    {
        var (middleware, context, feature) = Build(_ => Task.CompletedTask, new RouteConfig { RouteId = "r", ClusterId = "svc" });
        context.Response.StatusCode = 200;
        IReadOnlyList<DestinationState> chosen = [_destinations[0]];
        for (var i = 0; i < 1_000; i++)
        {
            feature.AvailableDestinations = chosen;
            await middleware.InvokeAsync(context);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            feature.AvailableDestinations = chosen;
            await middleware.InvokeAsync(context);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task InvokeAsync_RouteOptedOutOfPassiveHealth_FailuresNotCounted()
    {
        var route = new RouteConfig { RouteId = "poll", ClusterId = "svc", Metadata = new Dictionary<string, string> { [RouteResilience.PassiveHealthKey] = "false" } };
        var (middleware, context, feature) = Build(c => { c.Response.StatusCode = 500; return Task.CompletedTask; }, route);
        for (var i = 0; i < 10; i++)
        {
            feature.AvailableDestinations = [_destinations[0]];
            await middleware.InvokeAsync(context);
        }

        Assert.Null(_store.Get("svc", "a")!.State);
    }

    [Fact]
    public async Task InvokeAsync_ChosenDestinationEjected_SentToAnotherNotToIt()
    {
        Assert.True(_detector.TryGetCluster("svc", out var cluster));
        Assert.True(cluster.TryGet("a", out var a));
        for (var i = 0; i < 3; i++)
        {
            a.Record(AttemptOutcome.Failure);
        }

        var sentTo = new List<string>();
        var (middleware, context, feature) = Build(
            c =>
            {
                sentTo.Add(c.GetReverseProxyFeature().AvailableDestinations.Single().DestinationId);
                return Task.CompletedTask;
            },
            new RouteConfig { RouteId = "r", ClusterId = "svc" });
        feature.AvailableDestinations = [_destinations[0]];

        await middleware.InvokeAsync(context);

        Assert.Equal(["b"], sentTo);
    }

    public void Dispose()
    {
        _detector.Dispose();
        _invoker.Dispose();
        _services.Dispose();
    }

    private (ResilienceMiddleware Middleware, DefaultHttpContext Context, Feature Feature) Build(RequestDelegate next, RouteConfig route)
    {
        var middleware = new ResilienceMiddleware(next, _detector, new RouteResilienceTable(), _table, _metrics, new GatewayTracing(false, _store), Options.Create(new RetryOptions()), NullLogger<ResilienceMiddleware>.Instance);
        var feature = new Feature(new RouteModel(route, _cluster, HttpTransformer.Default), _cluster.Model);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Features.Set<IReverseProxyFeature>(feature);
        RequestKinds.Record(context, feature.Route, new GrpcCalls(AppContext.BaseDirectory));
        return (middleware, context, feature);
    }

    private sealed class Feature(RouteModel route, ClusterModel cluster) : IReverseProxyFeature
    {
        public RouteModel Route { get; } = route;

        public ClusterModel Cluster { get; } = cluster;

        public IReadOnlyList<DestinationState> AllDestinations { get; } = [];

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = [];

        public DestinationState? ProxiedDestination { get; set; }
    }
}
