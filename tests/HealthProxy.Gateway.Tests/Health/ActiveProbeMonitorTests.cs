using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Health;

public sealed class ActiveProbeMonitorTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CountingHandler _handler = new();
    private readonly HttpMessageInvoker _invoker;
    private readonly InstanceHealthStore _store;
    private readonly GatewayMetrics _metrics;

    public ActiveProbeMonitorTests()
    {
        _invoker = new HttpMessageInvoker(_handler);
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _store = new InstanceHealthStore(new RoutingTable(), TimeProvider.System, _metrics, NullLogger<InstanceHealthStore>.Instance);
    }

    public void Dispose()
    {
        _invoker.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task CheckHealthAsync_BoundedConcurrency_ProbesAndReportsEveryDestinationOnce()
    {
        using var monitor = Monitor(new ProbeOptions { InitialConcurrency = 4 });
        var clusters = Enumerable.Range(0, 3).Select(c => Cluster($"c{c}", 50)).ToList();
        foreach (var cluster in clusters)
        {
            _store.OnClusterAdded(cluster);
        }

        await monitor.CheckHealthAsync(clusters);

        Assert.True(monitor.InitialProbeCompleted);
        Assert.Equal(150, monitor.ProberCount);
        Assert.Equal(150, _handler.Requests);
        Assert.Equal(150, _handler.Paths.Distinct().Count());
        Assert.InRange(_handler.MaxInFlight, 1, 4);
        foreach (var cluster in clusters)
        {
            foreach (var id in cluster.Destinations.Keys)
            {
                var health = _store.Get(cluster.ClusterId, id);
                Assert.NotNull(health);
                Assert.Equal(HealthState.Healthy, health.State);
                Assert.Equal(HealthSource.Probe, health.Source);
            }
        }
    }

    [Fact]
    public async Task CheckHealthAsync_ConcurrencyAboveDestinations_StillCompletes()
    {
        using var monitor = Monitor(new ProbeOptions { InitialConcurrency = 10000 });

        await monitor.CheckHealthAsync([Cluster("one", 3)]);

        Assert.True(monitor.InitialProbeCompleted);
        Assert.Equal(3, _handler.Requests);
    }

    [Fact]
    public async Task CheckHealthAsync_NoDestinations_Completes()
    {
        using var monitor = Monitor(new ProbeOptions());

        await monitor.CheckHealthAsync([Cluster("empty", 0)]);

        Assert.True(monitor.InitialProbeCompleted);
        Assert.Equal(0, _handler.Requests);
    }

    [Fact]
    public void ClusterChanges_TouchOnlyTheirOwnCluster()
    {
        using var monitor = Monitor(new ProbeOptions());
        var a = Cluster("a", 3);
        monitor.OnClusterAdded(a);
        monitor.OnClusterAdded(Cluster("b", 2));
        Assert.Equal(5, monitor.ProberCount);

        a.Destinations.TryRemove("a-0", out _);
        monitor.OnClusterChanged(a);
        Assert.Equal(4, monitor.ProberCount);

        monitor.OnClusterChanged(Cluster("b", 2, enabled: false));
        Assert.Equal(2, monitor.ProberCount);

        monitor.OnClusterChanged(Cluster("b", 4));
        Assert.Equal(6, monitor.ProberCount);

        monitor.OnClusterRemoved(a);
        Assert.Equal(4, monitor.ProberCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10001)]
    public void Validate_InitialConcurrencyOutOfRange_NamesTheKey(int value)
    {
        var problems = new ProbeOptions { InitialConcurrency = value }.Validate().ToList();

        Assert.Contains(problems, p => p.StartsWith("HealthProxy:Probes:InitialConcurrency must be between 1 and 10000", StringComparison.Ordinal));
    }

    private ActiveProbeMonitor Monitor(ProbeOptions options) =>
        new(new RequestFactory(), _store, _metrics, Options.Create(options), TimeProvider.System, NullLogger<ActiveProbeMonitor>.Instance);

    private ClusterState Cluster(string id, int destinations, bool enabled = true)
    {
        var config = new ClusterConfig
        {
            ClusterId = id,
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig { Enabled = enabled, Interval = TimeSpan.FromHours(1), Timeout = TimeSpan.FromSeconds(5) },
            },
        };
        var cluster = new ClusterState(id, new ClusterModel(config, _invoker));
        for (var d = 0; d < destinations; d++)
        {
            var destinationId = $"{id}-{d}";
            var model = new DestinationModel(new DestinationConfig { Address = $"http://127.0.0.1:1/{destinationId}/" });
            cluster.Destinations.TryAdd(destinationId, new DestinationState(destinationId, model));
        }

        return cluster;
    }

    private sealed class RequestFactory : IProbingRequestFactory
    {
        public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination) =>
            new(HttpMethod.Get, new Uri(new Uri(destination.Config.Address), "health"));
    }

    private sealed class CountingHandler : HttpMessageHandler
    {
        private readonly Lock _lock = new();
        private int _inFlight;

        public int Requests { get; private set; }

        public int MaxInFlight { get; private set; }

        public List<string> Paths { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                Requests++;
                Paths.Add(request.RequestUri!.AbsolutePath);
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
            }

            try
            {
                await Task.Delay(2, cancellationToken);
                return new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent("{\"status\":\"healthy\"}", Encoding.UTF8, "application/json"),
                };
            }
            finally
            {
                lock (_lock)
                {
                    _inFlight--;
                }
            }
        }
    }
}
