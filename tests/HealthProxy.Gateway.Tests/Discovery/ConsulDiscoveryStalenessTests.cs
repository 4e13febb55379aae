using System.Diagnostics.Metrics;
using HealthProxy.Consul;
using HealthProxy.Consul.Api;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Discovery;

public sealed class ConsulDiscoveryStalenessTests
{
    [Fact]
    public async Task CheckStaleness_QuietBlockingQueryOutlastsStaleAfter_StaysFresh_ThenStaleAfterFailingThatLong()
    {
        var time = new FakeTimeProvider();
        var consul = new QuietConsul();
        using var services = new ServiceCollection().AddLogging().AddMetrics().AddSingleton<IConsulClient>(consul).BuildServiceProvider();
        var store = new InstanceHealthStore(new RoutingTable(), time, new GatewayMetrics(services.GetRequiredService<IMeterFactory>()), NullLogger<InstanceHealthStore>.Instance);

        // The defaults' shape: a blocking query may wait far longer than StaleAfter.
        var options = Options.Create(new DiscoveryOptions { Wait = TimeSpan.FromMinutes(5), StaleAfter = TimeSpan.FromSeconds(30) });
        await using var discovery = new ConsulDiscovery(services, store, new ConfigReloadSignal(), options, time, NullLogger<ConsulDiscovery>.Instance);
        await discovery.StartAsync(CancellationToken.None);
        discovery.Bind("orders", new ServiceSelection("orders", "", null, null, null));
        await Eventually.HoldsAsync(() => consul.BlockingQueries == 1, "the watch got its first answer and parked a blocking query");

        // Four quiet minutes inside the query's wait: Consul has nothing to say, which is not failing.
        Advance(time, TimeSpan.FromMinutes(4));
        Assert.False(discovery.AnyStale);
        Assert.True(discovery.Status[0].Reachable);

        consul.GoDown();
        await Eventually.HoldsAsync(() => !discovery.Status[0].Reachable, "the parked query failed");
        Advance(time, TimeSpan.FromSeconds(28));
        Assert.False(discovery.AnyStale);
        Advance(time, TimeSpan.FromSeconds(3));
        Assert.True(discovery.AnyStale);
    }

    // The staleness check runs every second on the clock; so do the watch's retries.
    private static void Advance(FakeTimeProvider time, TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Answers the first (index 0) query at once, then holds blocking queries until it goes down; down, everything fails.</summary>
    private sealed class QuietConsul : IConsulClient
    {
        private readonly TaskCompletionSource<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> _parked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _down;
        private int _blockingQueries;

        public int BlockingQueries => Volatile.Read(ref _blockingQueries);

        public void GoDown()
        {
            _down = true;
            _parked.TrySetException(new ConsulException(ConsulErrorKind.Unreachable, "Consul went away."));
        }

        public Task<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> GetHealthServiceAsync(string service, HealthServiceQuery? query = null, CancellationToken cancellationToken = default)
        {
            if (_down)
            {
                return Task.FromException<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>>(new ConsulException(ConsulErrorKind.Unreachable, "Consul is down."));
            }

            if (query is null || query.Index == 0)
            {
                return Task.FromResult(new ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>([], 7, true, TimeSpan.Zero));
            }

            Interlocked.Increment(ref _blockingQueries);
            return _parked.Task.WaitAsync(cancellationToken);
        }

        public Task<ConsulQueryResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task RegisterServiceAsync(ConsulServiceRegistration registration, bool replaceExistingChecks = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task UpdateTtlCheckAsync(string checkId, ConsulCheckStatus status, string? output = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task EnableServiceMaintenanceAsync(string serviceId, string? reason = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task DisableServiceMaintenanceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
