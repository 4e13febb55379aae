using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Tests.Discovery;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Health;

/// <summary>Probe loops that fault are logged and resume; probers go with their destinations; the cluster's policy is honoured.</summary>
public sealed class ActiveProbeMonitorSupervisionTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedHandler _handler = new();
    private readonly HttpMessageInvoker _invoker;
    private readonly InstanceHealthStore _store;
    private readonly GatewayMetrics _metrics;
    private readonly RecordingLogger<ActiveProbeMonitor> _log = new();

    public ActiveProbeMonitorSupervisionTests()
    {
        _invoker = new HttpMessageInvoker(_handler);
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(new RoutingTable(), _time, _metrics, NullLogger<InstanceHealthStore>.Instance);
    }

    public void Dispose()
    {
        _invoker.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task ProbeLoop_RequestFactoryThrows_LoggedAtErrorNotCountedAgainstTheInstance_AndProbingResumesAfterBackoff()
    {
        var factory = new FlakyFactory(failures: 1);
        using var monitor = Monitor(factory);
        await monitor.CheckHealthAsync([]);
        var cluster = Cluster("orders", ["a"]);
        _store.OnClusterAdded(cluster);

        monitor.OnClusterAdded(cluster);

        await Eventually.HoldsAsync(() => _log.Entries.Any(e => e.Id.Id == GatewayEventIds.ProbeLoopFaulted), "the fault was logged");
        var fault = Assert.Single(_log.Entries, e => e.Id.Id == GatewayEventIds.ProbeLoopFaulted);
        Assert.Equal(LogLevel.Error, fault.Level);
        Assert.IsType<InvalidOperationException>(fault.Exception);
        Assert.Null(_store.Get("orders", "a")!.State);
        Assert.Equal(0, _handler.Requests);

        // The backoff runs on the injected clock; then the loop probes again, and on its schedule after that.
        _time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => _store.Get("orders", "a")?.State == HealthState.Healthy, "probing resumed after the backoff");
        _time.Advance(Interval * 1.5);
        await Eventually.HoldsAsync(() => _handler.Requests >= 2, "the loop kept its schedule");
    }

    [Fact]
    public async Task ClusterChanges_ThousandsOfDestinationIdsChurn_ProbersTrackWhatExistsAndRemovedOnesAreNeverProbed()
    {
        using var monitor = Monitor(new FlakyFactory(failures: 0));
        await monitor.CheckHealthAsync([]);
        var cluster = Cluster("orders", []);
        monitor.OnClusterAdded(cluster);
        var current = Array.Empty<string>();
        for (var round = 0; round < 50; round++)
        {
            foreach (var id in current)
            {
                cluster.Destinations.TryRemove(id, out _);
            }

            current = [.. Enumerable.Range(0, 100).Select(i => $"d{round}-{i}")];
            AddDestinations(cluster, current);
            monitor.OnClusterChanged(cluster);
            Assert.Equal(100, monitor.ProberCount);
        }

        // Every id was probed once on arrival; from here only the 100 that exist are probed.
        await Eventually.HoldsAsync(() => _handler.Requests == 5000, "each arrival was probed once");
        _handler.Clear();
        _time.Advance(Interval * 1.5);
        await Eventually.HoldsAsync(() => _handler.Requests == 100, "the current destinations were probed on schedule");
        Assert.All(_handler.Paths, path => Assert.StartsWith("/d49-", path, StringComparison.Ordinal));

        monitor.OnClusterRemoved(cluster);
        Assert.Equal(0, monitor.ProberCount);
        _handler.Clear();
        _time.Advance(Interval * 3);
        await Task.Yield();
        Assert.Equal(0, _handler.Requests);
    }

    [Fact]
    public async Task CheckHealth_ConsecutiveFailuresThresholdInMetadata_TakesTheInstanceDownAfterThatManyFailures()
    {
        using var monitor = Monitor(new FlakyFactory(failures: 0));
        var cluster = Cluster("orders", ["a"], new Dictionary<string, string> { [ActiveProbePolicy.ThresholdMetadata] = "3" }, ActiveProbePolicy.ConsecutiveFailures);
        _store.OnClusterAdded(cluster);
        await monitor.CheckHealthAsync([cluster]);
        Assert.Equal(HealthState.Healthy, _store.Get("orders", "a")!.State);

        _handler.Status = HttpStatusCode.ServiceUnavailable;
        await monitor.CheckHealthAsync([cluster]);
        await monitor.CheckHealthAsync([cluster]);
        Assert.Equal(HealthState.Healthy, _store.Get("orders", "a")!.State);

        await monitor.CheckHealthAsync([cluster]);
        Assert.Equal(HealthState.Unhealthy, _store.Get("orders", "a")!.State);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("ConsecutiveFailures", null)]
    [InlineData("consecutivefailures", "5")]
    public async Task ConfigureCluster_AcceptedPolicy_PassesUnchanged(string? policy, string? threshold)
    {
        var config = Config(policy, threshold);

        Assert.Same(config, await new ActiveProbePolicyFilter().ConfigureClusterAsync(config, CancellationToken.None));
    }

    [Theory]
    [InlineData("FailureRate", null, "ReverseProxy:Clusters:orders:HealthCheck:Active:Policy must be 'ConsecutiveFailures' or unset (got 'FailureRate')")]
    [InlineData(null, "0", "ReverseProxy:Clusters:orders:Metadata:ConsecutiveFailuresHealthPolicy.Threshold must be a whole number from 1 to 100 (got '0')")]
    [InlineData(null, "2.5", "ReverseProxy:Clusters:orders:Metadata:ConsecutiveFailuresHealthPolicy.Threshold must be a whole number from 1 to 100 (got '2.5')")]
    public async Task ConfigureCluster_PolicyTheProbesWouldNotHonour_RejectedNamingTheKey(string? policy, string? threshold, string expected)
    {
        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => new ActiveProbePolicyFilter().ConfigureClusterAsync(Config(policy, threshold), CancellationToken.None).AsTask());

        Assert.Contains(error.Problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    private static ClusterConfig Config(string? policy, string? threshold) => new()
    {
        ClusterId = "orders",
        HealthCheck = new HealthCheckConfig { Active = new ActiveHealthCheckConfig { Enabled = true, Policy = policy } },
        Metadata = threshold is null ? null : new Dictionary<string, string> { [ActiveProbePolicy.ThresholdMetadata] = threshold },
    };

    private ActiveProbeMonitor Monitor(IProbingRequestFactory factory) =>
        new(factory, _store, _metrics, Options.Create(new ProbeOptions { Jitter = 0 }), _time, _log);

    private ClusterState Cluster(string id, string[] destinations, Dictionary<string, string>? metadata = null, string? policy = null)
    {
        var config = new ClusterConfig
        {
            ClusterId = id,
            Metadata = metadata,
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig { Enabled = true, Interval = Interval, Timeout = TimeSpan.FromSeconds(5), Policy = policy },
            },
        };
        var cluster = new ClusterState(id, new ClusterModel(config, _invoker));
        AddDestinations(cluster, destinations);
        return cluster;
    }

    private static void AddDestinations(ClusterState cluster, IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            cluster.Destinations.TryAdd(id, new DestinationState(id, new DestinationModel(new DestinationConfig { Address = $"http://127.0.0.1:1/{id}/" })));
        }
    }

    /// <summary>Throws an unexpected exception for the first <c>failures</c> requests it is asked to build.</summary>
    private sealed class FlakyFactory(int failures) : IProbingRequestFactory
    {
        private int _left = failures;

        public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination) =>
            Interlocked.Decrement(ref _left) >= 0
                ? throw new InvalidOperationException("a defect in the request factory")
                : new HttpRequestMessage(HttpMethod.Get, new Uri(destination.Config.Address));
    }

    /// <summary>Answers at once with <see cref="Status"/> and no body; records the paths asked.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly ConcurrentQueue<string> _paths = new();

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public int Requests => _paths.Count;

        public IEnumerable<string> Paths => _paths;

        public void Clear() => _paths.Clear();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _paths.Enqueue(request.RequestUri!.AbsolutePath);
            return Task.FromResult(new HttpResponseMessage(Status) { Content = new ByteArrayContent([]) });
        }
    }
}
