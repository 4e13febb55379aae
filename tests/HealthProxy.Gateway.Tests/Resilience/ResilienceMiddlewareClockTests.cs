using HealthProxy.Gateway.GrpcRouting;
using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

/// <summary>The retry policy's timings on a fake clock: per-try timeouts and backoff.</summary>
public sealed class ResilienceMiddlewareClockTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler());
    private readonly FakeTimeProvider _clock = new();
    private readonly RoutingTable _table = new();
    private readonly InstanceHealthStore _store;
    private readonly OutlierDetector _detector;
    private readonly GatewayMetrics _metrics;
    private readonly ClusterState _cluster;
    private readonly DestinationState[] _destinations = [new("a"), new("b")];
    private readonly List<string> _sentTo = [];

    public ResilienceMiddlewareClockTests()
    {
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(_table, TimeProvider.System, _metrics, NullLogger<InstanceHealthStore>.Instance);
        _detector = new OutlierDetector(
            Options.Create(new OutlierDetectionOptions { ConsecutiveFailures = 100 }), Options.Create(new RetryOptions()), _store, _clock, _metrics, NullLogger<OutlierDetector>.Instance);
        _cluster = new ClusterState("svc", new ClusterModel(new ClusterConfig { ClusterId = "svc" }, _invoker));
        foreach (var destination in _destinations)
        {
            _cluster.Destinations.TryAdd(destination.DestinationId, destination);
        }

        _store.OnClusterAdded(_cluster);
        _detector.OnClusterAdded(_cluster);
    }

    [Fact]
    public async Task InvokeAsync_TryRunsPastPerTryTimeout_CancelledAndRetriedOnAnother()
    {
        var context = Context(PerTry("00:00:01"));
        var invoke = Middleware(Hangs("a"), backoff: TimeSpan.Zero).InvokeAsync(context);
        await Eventually.HoldsAsync(() => Sent(1), "the first try started");
        Assert.False(invoke.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        await invoke.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a", "b"], Snapshot());
        Assert.Equal(200, context.Response.StatusCode);
        Assert.False(context.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public async Task InvokeAsync_EveryTryTimesOut_ClientGets504()
    {
        var context = Context(PerTry("00:00:01"));
        var invoke = Middleware(Hangs("a", "b"), backoff: TimeSpan.Zero).InvokeAsync(context);
        await Eventually.HoldsAsync(() => Sent(1), "the first try started");
        _clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => Sent(2), "the retry started");
        Assert.False(invoke.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        await invoke.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a", "b"], Snapshot());
        Assert.Equal(StatusCodes.Status504GatewayTimeout, context.Response.StatusCode);
    }

    [Fact]
    public async Task InvokeAsync_Retry_WaitsWithinTheBackoffBaseOnTheClock()
    {
        var context = Context(new Dictionary<string, string>());
        var invoke = Middleware(BreaksConnection("a"), backoff: TimeSpan.FromMilliseconds(100)).InvokeAsync(context);
        await Eventually.HoldsAsync(() => Sent(1), "the first try was made");

        // The draw is uniform in [0, 100 ms): the retry waits for the clock, and 100 ms always suffices.
        Assert.False(invoke.IsCompleted);
        Assert.Equal(["a"], Snapshot());
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        await invoke.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["a", "b"], Snapshot());
        Assert.Equal(200, context.Response.StatusCode);
    }

    public void Dispose()
    {
        _detector.Dispose();
        _invoker.Dispose();
        _services.Dispose();
    }

    private static Dictionary<string, string> PerTry(string timeout) => new() { [HealthProxyMetadata.PerTryTimeout] = timeout };

    private bool Sent(int count)
    {
        lock (_sentTo)
        {
            return _sentTo.Count >= count;
        }
    }

    private List<string> Snapshot()
    {
        lock (_sentTo)
        {
            return [.. _sentTo];
        }
    }

    private string Record(HttpContext context)
    {
        var id = context.GetReverseProxyFeature().AvailableDestinations.Single().DestinationId;
        context.GetReverseProxyFeature().ProxiedDestination = context.GetReverseProxyFeature().AvailableDestinations[0];
        lock (_sentTo)
        {
            _sentTo.Add(id);
        }

        return id;
    }

    /// <summary>Destinations in <paramref name="hung"/> never answer; cancelled, they fail as YARP's forwarder does (RequestCanceled, 400).</summary>
    private RequestDelegate Hangs(params string[] hung) => async context =>
    {
        if (!hung.Contains(Record(context)))
        {
            context.Response.StatusCode = 200;
            return;
        }

        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
        }
        catch (OperationCanceledException ex)
        {
            context.Features.Set<IForwarderErrorFeature>(new ErrorFeature(ForwarderError.RequestCanceled, ex));
            context.Response.StatusCode = 400;
        }
    };

    /// <summary><paramref name="broken"/> fails with a transport error before answering (YARP's Request error, 502).</summary>
    private RequestDelegate BreaksConnection(string broken) => context =>
    {
        if (Record(context) == broken)
        {
            context.Features.Set<IForwarderErrorFeature>(new ErrorFeature(ForwarderError.Request, new HttpRequestException("reset", new IOException("reset"))));
            context.Response.StatusCode = 502;
        }
        else
        {
            context.Response.StatusCode = 200;
        }

        return Task.CompletedTask;
    };

    private ResilienceMiddleware Middleware(RequestDelegate next, TimeSpan backoff) => new(
        next,
        _detector,
        new RouteResilienceTable(),
        _table,
        _metrics,
        new GatewayTracing(false, _store),
        Options.Create(new RetryOptions { BackoffBaseDelay = backoff, BackoffMaxDelay = TimeSpan.FromMilliseconds(250) }),
        NullLogger<ResilienceMiddleware>.Instance);

    private DefaultHttpContext Context(Dictionary<string, string> metadata)
    {
        var route = new RouteConfig { RouteId = "r", ClusterId = "svc", Metadata = metadata };
        var feature = new Feature(new RouteModel(route, _cluster, HttpTransformer.Default), _cluster.Model) { AvailableDestinations = [_destinations[0]] };
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Features.Set<IReverseProxyFeature>(feature);
        RequestKinds.Record(context, feature.Route, new GrpcCalls(AppContext.BaseDirectory));
        return context;
    }

    private sealed class ErrorFeature(ForwarderError error, Exception exception) : IForwarderErrorFeature
    {
        public ForwarderError Error { get; } = error;

        public Exception? Exception { get; } = exception;
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
