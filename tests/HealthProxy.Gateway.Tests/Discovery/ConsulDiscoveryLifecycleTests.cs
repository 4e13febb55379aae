using System.Diagnostics.Metrics;
using HealthProxy.Consul;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Discovery;

/// <summary>What discovery keeps for a cluster goes when the cluster goes, or stops naming the service.</summary>
public sealed class ConsulDiscoveryLifecycleTests : IAsyncDisposable
{
    private static readonly ServiceSelection Orders = new("orders", "", null, null, null);
    private static readonly ServiceSelection Payments = new("payments", "", null, null, null);

    private readonly FakeConsul _consul = new();
    private readonly ServiceProvider _services;
    private readonly InstanceHealthStore _store;
    private readonly RecordingLogger<ConsulDiscovery> _log = new();
    private readonly ConsulDiscovery _discovery;

    public ConsulDiscoveryLifecycleTests() : this(TimeProvider.System)
    {
    }

    private ConsulDiscoveryLifecycleTests(TimeProvider time, Yarp.ReverseProxy.IProxyStateLookup? yarp = null)
    {
        var services = new ServiceCollection().AddLogging().AddMetrics().AddSingleton<IConsulClient>(_consul);
        if (yarp is not null)
        {
            services.AddSingleton(yarp);
        }

        _services = services.BuildServiceProvider();
        _store = new InstanceHealthStore(new RoutingTable(), time, new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<InstanceHealthStore>.Instance);
        _discovery = new ConsulDiscovery(_services, _store, new ConfigReloadSignal(), Options.Create(new DiscoveryOptions()), time, _log);
    }

    public async ValueTask DisposeAsync()
    {
        await _discovery.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task OnClusterRemoved_LastClusterOfItsWatch_QueriesStopAndStatusNoLongerListsIt()
    {
        _consul.SetInstances("orders", "o1");
        _consul.SetInstances("payments", "p1");
        _discovery.Bind("orders", Orders);
        _discovery.Bind("payments", Payments);
        await Eventually.HoldsAsync(() => _consul.Open("orders") == 1 && _consul.Open("payments") == 1, "both watches parked a blocking query");
        Assert.True(_discovery.Published.ContainsKey("orders"));

        _discovery.OnClusterRemoved(Cluster("orders"));

        await Eventually.HoldsAsync(() => _consul.Open("orders") == 0, "the removed cluster's blocking query was cancelled");
        Assert.Equal(["payments"], _discovery.Status.Select(s => s.Service));
        Assert.False(_discovery.Published.ContainsKey("orders"));
        Assert.DoesNotContain(_discovery.PublishedDependencies, d => d.ClusterId == "orders");
        Assert.Contains(_log.Entries, e => e.Id.Id == GatewayEventIds.DiscoveryReleased && e.Message.Contains("orders", StringComparison.Ordinal));

        // Consul changing the removed service wakes nothing: no watch asks about it any more.
        var asked = _consul.Queries("orders");
        _consul.SetInstances("orders", "o1", "o2");
        _consul.SetInstances("payments", "p1", "p2");
        await Eventually.HoldsAsync(() => _discovery.Bind("payments", Payments).Destinations?.Count == 2, "the other watch still follows its service");
        Assert.Equal(asked, _consul.Queries("orders"));
        Assert.Equal(0, _consul.Open("orders"));
    }

    [Fact]
    public async Task OnClusterRemoved_WatchSharedWithAnotherCluster_KeepsWatchingForIt()
    {
        _consul.SetInstances("orders", "o1");
        _discovery.Bind("orders", Orders);
        _discovery.Bind("orders-copy", Orders);
        // The answer reaches discovery's reader through a channel while the watch already parks its next query.
        await Eventually.HoldsAsync(
            () => _consul.Open("orders") == 1 && _discovery.Published.ContainsKey("orders") && _discovery.Published.ContainsKey("orders-copy"),
            "the shared watch parked a blocking query and both clusters got its answer");

        _discovery.OnClusterRemoved(Cluster("orders-copy"));

        Assert.Equal(["orders"], _discovery.Status.Select(s => s.Service));
        Assert.Equal(["orders"], _discovery.Published.Keys);
        _consul.SetInstances("orders", "o1", "o2");
        await Eventually.HoldsAsync(() => _discovery.Bind("orders", Orders).Destinations?.Count == 2, "the watch still follows the service");
    }

    [Fact]
    public async Task Bind_ClusterMovesToAnotherService_OldWatchStopsAndItsReportsAreWithdrawn()
    {
        _consul.SetInstances("orders", "o1");
        _consul.SetInstances("payments", "p1");
        var cluster = Cluster("shop", "n1/o1", "n1/p1");
        _store.OnClusterAdded(cluster);
        _discovery.Bind("shop", Orders);
        await Eventually.HoldsAsync(() => _consul.Open("orders") == 1 && _store.Get("shop", "n1/o1")?.State == HealthState.Healthy, "orders answered for shop");

        _discovery.Bind("shop", Payments);

        await Eventually.HoldsAsync(() => _consul.Open("orders") == 0, "the watch no cluster binds stopped");
        await Eventually.HoldsAsync(() => _store.Get("shop", "n1/p1")?.State == HealthState.Healthy, "payments answered for shop");
        Assert.Null(_store.Get("shop", "n1/o1")!.State);
        Assert.Equal(["payments"], _discovery.Status.Select(s => s.Service));
    }

    [Fact]
    public async Task Bind_FailoverDatacenters_OneWatchPerTierWithRemoteInstancesUnderTheirOwnIdsAndPriority()
    {
        _consul.SetInstances("orders", "o1");
        _consul.SetInstances("orders@dc2", "o1");
        _consul.SetInstances("orders@dc3", "o3");
        var tiers = new[] { Orders, Orders with { Datacenter = "dc2" }, Orders with { Datacenter = "dc3" } };
        _store.OnClusterAdded(Cluster("shop", "n1/o1", "dc2/n1/o1", "dc3/n1/o3"));
        _discovery.Bind("shop", tiers);
        await Eventually.HoldsAsync(
            () => _consul.Open("orders") == 1 && _consul.Open("orders@dc2") == 1 && _consul.Open("orders@dc3") == 1 && _discovery.Bind("shop", tiers).Destinations?.Count == 3,
            "every datacenter's watch answered and parked a blocking query");

        var view = _discovery.Bind("shop", tiers);
        Assert.Null(view.Destinations!["n1/o1"].Metadata);
        Assert.Equal("1", view.Destinations["dc2/n1/o1"].Metadata![Gateway.Configuration.HealthProxyMetadata.Priority]);
        Assert.Equal("2", view.Destinations["dc3/n1/o3"].Metadata![Gateway.Configuration.HealthProxyMetadata.Priority]);
        await Eventually.HoldsAsync(
            () => _store.Get("shop", "n1/o1")?.State == HealthState.Healthy && _store.Get("shop", "dc2/n1/o1")?.State == HealthState.Healthy
                && _store.Get("shop", "dc3/n1/o3")?.State == HealthState.Healthy,
            "each tier's states reached the store under its own ids");
        Assert.Equal(["orders", "orders", "orders"], _discovery.Status.Select(s => s.Service));
        Assert.Equal([null, "dc2", "dc3"], _discovery.Status.Select(s => s.Datacenter).Order());
    }

    [Fact]
    public async Task Bind_FailoverListChanges_OnlyTheDroppedDatacentersWatchStopsAndItsReportsAreWithdrawn()
    {
        _consul.SetInstances("orders", "o1");
        _consul.SetInstances("orders@dc2", "o2");
        _consul.SetInstances("orders@dc3", "o3");
        var both = new[] { Orders, Orders with { Datacenter = "dc2" }, Orders with { Datacenter = "dc3" } };
        _store.OnClusterAdded(Cluster("shop", "n1/o1", "dc2/n1/o2", "dc3/n1/o3"));
        _discovery.Bind("shop", both);
        await Eventually.HoldsAsync(
            () => _consul.Open("orders") == 1 && _consul.Open("orders@dc2") == 1 && _consul.Open("orders@dc3") == 1
                && _store.Get("shop", "dc3/n1/o3")?.State == HealthState.Healthy && _store.Get("shop", "n1/o1")?.State == HealthState.Healthy,
            "all three datacenters answered");
        var localQueries = _consul.Queries("orders");

        _discovery.Bind("shop", both[..2]);

        await Eventually.HoldsAsync(
            () => _consul.Open("orders@dc3") == 0 && _store.Get("shop", "dc3/n1/o3")?.State is null, "the dropped datacenter's query was cancelled and its report withdrawn");
        Assert.Equal(HealthState.Healthy, _store.Get("shop", "n1/o1")!.State);
        Assert.Equal(HealthState.Healthy, _store.Get("shop", "dc2/n1/o2")!.State);
        Assert.Equal(localQueries, _consul.Queries("orders"));
        Assert.Equal(1, _consul.Open("orders"));

        _discovery.OnClusterRemoved(Cluster("shop"));
        await Eventually.HoldsAsync(() => _consul.Open("orders") == 0 && _consul.Open("orders@dc2") == 0, "every watch of the removed cluster stopped");
        Assert.Empty(_discovery.Status);
    }

    [Fact]
    public async Task Bind_FailoverDatacenterAnswersBeforeTheLocalOne_ItsInstancesWaitForTheLocalAnswer()
    {
        var tiers = new[] { Payments, Payments with { Datacenter = "dc2" } };
        _consul.SetInstances("payments@dc2", "p2");
        _consul.FailFor("payments");
        _discovery.Bind("shop", tiers);
        await Eventually.HoldsAsync(() => _consul.Open("payments@dc2") == 1 && _consul.Queries("payments") >= 1, "the failover datacenter answered, the local one failed");

        Assert.Null(_discovery.Bind("shop", tiers).Destinations);
        Assert.False(_discovery.InitialAnswersReceived);
    }

    [Fact]
    public async Task ConfigureCluster_ClusterStopsNamingAConsulService_ReleasesItsWatch()
    {
        _consul.SetInstances("orders", "o1");
        var filter = new ConsulDestinationsFilter(_discovery, Options.Create(new DiscoveryOptions()));
        var withConsul = new ClusterConfig { ClusterId = "orders", Metadata = new Dictionary<string, string> { [ConsulMetadata.Service] = "orders" } };
        await filter.ConfigureClusterAsync(withConsul, CancellationToken.None);
        await Eventually.HoldsAsync(() => _consul.Open("orders") == 1, "the watch parked a blocking query");

        var result = await filter.ConfigureClusterAsync(withConsul with { Metadata = null }, CancellationToken.None);

        Assert.Null(result.Metadata);
        await Eventually.HoldsAsync(() => _consul.Open("orders") == 0, "the watch stopped");
        Assert.Empty(_discovery.Status);
        Assert.Empty(_discovery.Published);
    }

    [Fact]
    public async Task Snapshot_InstanceLeavesConsul_KeepsItsStateUntilYarpDropsIt_ThenIsWithdrawn()
    {
        _consul.SetInstances("orders", "a", "b");
        var cluster = Cluster("orders", "n1/a", "n1/b");
        _store.OnClusterAdded(cluster);
        _discovery.Bind("orders", Orders);
        await Eventually.HoldsAsync(() => _store.Get("orders", "n1/b")?.State == HealthState.Healthy, "Consul's states reached the store");

        _consul.SetInstances("orders", "a");
        await Eventually.HoldsAsync(() => _discovery.Bind("orders", Orders).Destinations?.Count == 1, "discovery saw b leave");

        // Still routed until YARP applies the reload: its last word stands, no transition to "unknown".
        Assert.Equal(HealthState.Healthy, _store.Get("orders", "n1/b")!.State);

        cluster.Destinations.TryRemove("n1/b", out _);
        _store.OnClusterChanged(cluster);
        _discovery.OnClusterChanged(cluster);
        Assert.Null(_store.Get("orders", "n1/b"));

        // An instance that comes and goes before YARP ever routes it: its report is withdrawn too, so
        // nothing of it is kept, and were its id routed later no stale state would come with it.
        _consul.SetInstances("orders", "a", "c");
        await Eventually.HoldsAsync(() => _discovery.Bind("orders", Orders).Destinations?.Count == 2, "discovery saw c arrive");
        _consul.SetInstances("orders", "a");
        await Eventually.HoldsAsync(() => _discovery.Bind("orders", Orders).Destinations?.Count == 1, "discovery saw c leave");
        _discovery.OnClusterChanged(cluster);
        cluster.Destinations.TryAdd("n1/c", new DestinationState("n1/c", new DestinationModel(new DestinationConfig { Address = "http://10.0.0.1/" })));
        _store.OnClusterChanged(cluster);
        Assert.Null(_store.Get("orders", "n1/c")!.State);
    }

    [Fact]
    public async Task PublishedChanged_AReaderThrows_LoggedAtErrorTheOthersStillHearAndAnswersKeepApplying()
    {
        var time = new FakeTimeProvider();
        await using var owner = new ConsulDiscoveryLifecycleTests(time);
        var faults = 1;
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        owner._discovery.PublishedChanged += _ =>
        {
            if (Interlocked.Decrement(ref faults) >= 0)
            {
                throw new InvalidOperationException("a subscriber's defect");
            }
        };
        owner._discovery.PublishedChanged += heard.Enqueue;
        owner._consul.SetInstances("orders", "o1");
        owner._discovery.Bind("orders", Orders);

        await Eventually.HoldsAsync(() => owner._log.Entries.Any(e => e.Id.Id == GatewayEventIds.DiscoveryHandlerFailed), "the fault was logged");
        var fault = Assert.Single(owner._log.Entries, e => e.Id.Id == GatewayEventIds.DiscoveryHandlerFailed);
        Assert.Equal(LogLevel.Error, fault.Level);
        Assert.IsType<InvalidOperationException>(fault.Exception);
        await Eventually.HoldsAsync(() => heard.Contains("orders"), "the other reader heard of the change");

        // The snapshot reader itself never faulted: Consul's next answers apply as they come.
        owner._consul.SetInstances("orders", "o1", "o2");
        await Eventually.HoldsAsync(() => owner._discovery.Bind("orders", Orders).Destinations?.Count == 2, "the newest answer applied");
        Assert.DoesNotContain(owner._log.Entries, e => e.Id.Id == GatewayEventIds.DiscoveryReaderFaulted);
    }

    [Fact]
    public async Task Bind_ForAClusterYarpNeverApplies_ReleasedAfterTheGrace_QueriesStopAndNothingWaits()
    {
        var time = new FakeTimeProvider();
        await using var owner = new ConsulDiscoveryLifecycleTests(time, new AppliedClusters("orders"));
        await owner._discovery.StartAsync(CancellationToken.None);
        owner._consul.SetInstances("orders", "o1");
        owner._consul.SetInstances("ghost", "g1");
        owner._store.OnClusterAdded(Cluster("orders"));

        // A reload YARP refused after its filters ran: "ghost" was bound, and never appears.
        owner._discovery.Bind("orders", Orders);
        owner._discovery.Bind("ghost", new ServiceSelection("ghost", "", null, null, null));
        // Both clusters' instance reports wait for their destinations; the ghost's never comes.
        await Eventually.HoldsAsync(() => owner._consul.Open("ghost") == 1 && owner._store.PendingCount == 2, "the ghost's watch answered and its report waits");

        time.Advance(ConsulDiscovery.OrphanGrace - TimeSpan.FromSeconds(2));
        Assert.Equal(1, owner._consul.Open("ghost"));
        await Eventually.HoldsAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return owner._consul.Open("ghost") == 0;
            },
            "the ghost's blocking query was cancelled");
        Assert.DoesNotContain(owner._discovery.Status, s => s.Service == "ghost");
        Assert.False(owner._discovery.Published.ContainsKey("ghost"));
        Assert.Equal(1, owner._store.PendingCount);
        Assert.Equal(1, owner._consul.Open("orders"));
    }

    /// <summary>YARP's applied clusters, as <see cref="Yarp.ReverseProxy.IProxyStateLookup"/> tells them.</summary>
    private sealed class AppliedClusters(params string[] ids) : Yarp.ReverseProxy.IProxyStateLookup
    {
        public bool TryGetRoute(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RouteModel? route)
        {
            route = null;
            return false;
        }

        public IEnumerable<RouteModel> GetRoutes() => [];

        public bool TryGetCluster(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ClusterState? cluster)
        {
            cluster = ids.Contains(id) ? Cluster(id) : null;
            return cluster is not null;
        }

        public IEnumerable<ClusterState> GetClusters() => ids.Select(id => Cluster(id));
    }

    /// <summary>A YARP cluster state; destination ids are Consul's instance ids (node/service id).</summary>
    private static ClusterState Cluster(string id, params string[] destinations)
    {
        var cluster = new ClusterState(id, new ClusterModel(new ClusterConfig { ClusterId = id }, new HttpMessageInvoker(new HttpClientHandler())));
        foreach (var destination in destinations)
        {
            cluster.Destinations.TryAdd(destination, new DestinationState(destination, new DestinationModel(new DestinationConfig { Address = "http://10.0.0.1/" })));
        }

        return cluster;
    }
}
