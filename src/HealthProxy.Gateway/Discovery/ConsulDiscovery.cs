using System.Collections.Immutable;
using HealthProxy.Consul;
using HealthProxy.Consul.Discovery;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// Keeps one Consul watch per selected service and feeds the gateway from it: instance states go
/// to the <see cref="InstanceHealthStore"/> as the registry source the moment Consul answers;
/// membership changes make YARP reload, so <see cref="ConsulDestinationsFilter"/> refills the
/// cluster's destinations. When Consul stops answering, the last good snapshot keeps serving, and
/// after <see cref="DiscoveryOptions.StaleAfter"/> its states stop counting and probes decide.
/// </summary>
/// <remarks>
/// Threading: one lock guards the watches' bookkeeping; snapshot handling runs on each watch's
/// reader task; nothing here is on the request path.
/// </remarks>
internal sealed partial class ConsulDiscovery : IHostedService, IClusterChangeListener, IAsyncDisposable
{
    private static readonly TimeSpan StaleCheckPeriod = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceSelection, Watched> _watches = [];

    // Which watch each cluster is bound to: a reload binds every cluster, so finding its previous
    // binding must not scan every watch (that made one reload O(services^2) at 1,000 services).
    private readonly Dictionary<string, Watched> _bindings = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly InstanceHealthStore _store;
    private readonly ConfigReloadSignal _reload;
    private readonly DiscoveryOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ConsulDiscovery> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTimeOffset _created;
    private IConsulClient? _client;
    private volatile ImmutableDictionary<string, PublishedService> _published = ImmutableDictionary.Create<string, PublishedService>(StringComparer.Ordinal);
    private ITimer? _staleTimer;

    public ConsulDiscovery(
        IServiceProvider services,
        InstanceHealthStore store,
        ConfigReloadSignal reload,
        IOptions<DiscoveryOptions> options,
        TimeProvider timeProvider,
        ILogger<ConsulDiscovery> logger)
    {
        _services = services;
        _store = store;
        _reload = reload;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _created = timeProvider.GetUtcNow();
    }

    /// <summary>True when every watched service has answered once, or the startup budget is spent.</summary>
    public bool InitialAnswersReceived
    {
        get
        {
            lock (_lock)
            {
                // Answered is not enough: YARP must have applied the answer's destinations, or the first
                // requests after startup find a cluster with nothing to route to.
                return _watches.Values.All(w => w.Last is not null && w.Clusters.All(w.Applied.Contains))
                    || _timeProvider.GetUtcNow() - _created >= _options.StartupTimeout;
            }
        }
    }

    /// <summary>True while any watched service is served from a stale snapshot.</summary>
    public bool AnyStale
    {
        get
        {
            lock (_lock)
            {
                return _watches.Values.Any(w => w.Stale);
            }
        }
    }

    /// <summary>Each watched service's reachability and data age, for views and metrics.</summary>
    public IReadOnlyList<RegistryStatus> Status
    {
        get
        {
            var now = _timeProvider.GetUtcNow();
            lock (_lock)
            {
                return [.. _watches.Values.Select(w => new RegistryStatus(
                    w.Selection.Service,
                    w.Watch.Status.IsReachable,
                    w.Stale,
                    w.Watch.Status.LastSuccess is { } success ? now - success : null))];
            }
        }
    }

    /// <summary>
    /// The dependencies the instances of each watched service publish (worst state across instances), per
    /// cluster routing to it; nothing for a stale snapshot, whose word no longer counts. For metrics.
    /// </summary>
    public IReadOnlyList<PublishedDependency> PublishedDependencies
    {
        get
        {
            lock (_lock)
            {
                var result = new List<PublishedDependency>();
                foreach (var watched in _watches.Values)
                {
                    if (watched.Last is null || watched.Stale || watched.Clusters.Count == 0)
                    {
                        continue;
                    }

                    var worst = new Dictionary<string, (HealthState State, bool Critical)>(StringComparer.Ordinal);
                    foreach (var instance in watched.Last.Instances)
                    {
                        foreach (var (name, dependency) in instance.Dependencies)
                        {
                            worst[name] = worst.TryGetValue(name, out var seen)
                                ? (seen.State.Worst(dependency.Status), seen.Critical || dependency.Critical)
                                : (dependency.Status, dependency.Critical);
                        }
                    }

                    foreach (var clusterId in watched.Clusters)
                    {
                        result.AddRange(worst.Select(pair => new PublishedDependency(clusterId, pair.Key, pair.Value.State, pair.Value.Critical)));
                    }
                }

                return result;
            }
        }
    }

    /// <summary>
    /// Raised with a cluster id when what its service publishes (category, dependencies) changed; on
    /// the watch's reader task, outside any lock here.
    /// </summary>
    public event Action<string>? PublishedChanged;

    /// <summary>
    /// What each Consul cluster's service publishes, by cluster id: read without a lock (an immutable
    /// map swapped whole), so callers holding other locks may read it.
    /// </summary>
    public IReadOnlyDictionary<string, PublishedService> Published => _published;

    /// <summary>
    /// Called by the config filter on every load: makes sure the service is watched, remembers that
    /// <paramref name="clusterId"/> routes to it, and returns what the cluster should route to now.
    /// </summary>
    public ServiceView Bind(string clusterId, ServiceSelection selection)
    {
        lock (_lock)
        {
            if (_bindings.TryGetValue(clusterId, out var bound) && bound.Selection != selection)
            {
                bound.Clusters.Remove(clusterId);
            }

            if (!_watches.TryGetValue(selection, out var watched))
            {
                watched = StartWatch_NeedsLock(selection);
            }

            _bindings[clusterId] = watched;

            if (watched.Clusters.Add(clusterId) && watched.Last is not null && !watched.Stale)
            {
                ReportStates_NeedsLock(clusterId, watched.Last.Instances, previous: []);
            }

            if (watched.Last is not null)
            {
                SetPublished_NeedsLock(clusterId, watched.Last);
            }

            return new ServiceView(watched.Destinations, watched.Stale);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _staleTimer = _timeProvider.CreateTimer(_ => CheckStaleness(), null, StaleCheckPeriod, StaleCheckPeriod);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_staleTimer is not null)
        {
            await _staleTimer.DisposeAsync().ConfigureAwait(false);
        }

        List<ConsulServiceWatch> watches;
        lock (_lock)
        {
            watches = [.. _watches.Values.Select(w => w.Watch)];
        }

        foreach (var watch in watches)
        {
            await watch.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private Watched StartWatch_NeedsLock(ServiceSelection selection)
    {
        _client ??= _services.GetRequiredService<IConsulClient>();
        var watch = new ConsulServiceWatch(
            _client,
            new ConsulServiceWatchOptions
            {
                ServiceName = selection.Service,
                Wait = _options.Wait,
                RetryMaxDelay = _options.RetryMaxDelay,
                Tags = selection.Tags.Length == 0 ? [] : selection.Tags.Split(','),
                Filter = selection.Filter,
                Datacenter = selection.Datacenter,
            },
            _timeProvider,
            _services.GetRequiredService<ILogger<ConsulServiceWatch>>());
        var watched = new Watched(selection, watch);
        _watches.Add(selection, watched);
        watch.Start();
        _ = Task.Run(() => ConsumeAsync(watched));
        LogWatching(selection.Service);
        return watched;
    }

    private async Task ConsumeAsync(Watched watched)
    {
        try
        {
            await foreach (var snapshot in watched.Watch.Snapshots.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                OnSnapshot(watched, snapshot);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void OnSnapshot(Watched watched, ConsulServiceSnapshot snapshot)
    {
        bool reload;
        List<string> publishedChanged = [];
        lock (_lock)
        {
            var previous = watched.Last?.Instances ?? [];
            var destinations = ToDestinations(snapshot.Instances, watched.Selection.Scheme);
            reload = watched.Destinations is null || watched.Stale || !SameMembers(watched.Destinations, destinations);
            if (watched.Stale)
            {
                LogFresh(watched.Selection.Service);
            }

            watched.Last = snapshot;
            watched.Stale = false;
            watched.Destinations = destinations;

            // States first: a destination the reload adds arrives with its state already known.
            foreach (var clusterId in watched.Clusters)
            {
                ReportStates_NeedsLock(clusterId, snapshot.Instances, previous);
                if (SetPublished_NeedsLock(clusterId, snapshot))
                {
                    publishedChanged.Add(clusterId);
                }
            }
        }

        foreach (var clusterId in publishedChanged)
        {
            PublishedChanged?.Invoke(clusterId);
        }

        if (reload)
        {
            _reload.Reload();
        }
    }

    private bool SetPublished_NeedsLock(string clusterId, ConsulServiceSnapshot snapshot)
    {
        var dependencies = new SortedSet<string>(snapshot.Instances.SelectMany(i => i.Dependencies.Keys), StringComparer.Ordinal);
        var category = snapshot.Instances.Select(i => i.Category).FirstOrDefault(c => !string.IsNullOrWhiteSpace(c));
        if (_published.TryGetValue(clusterId, out var old)
            && old.ServiceName == snapshot.ServiceName && old.Category == category && old.Dependencies.SequenceEqual(dependencies))
        {
            return false;
        }

        _published = _published.SetItem(clusterId, new PublishedService(snapshot.ServiceName, category, dependencies));
        return true;
    }

    private void CheckStaleness()
    {
        var reload = false;
        var now = _timeProvider.GetUtcNow();
        lock (_lock)
        {
            foreach (var watched in _watches.Values)
            {
                var status = watched.Watch.Status;
                if (watched.Last is null || status.LastSuccess is null)
                {
                    continue;
                }

                // A blocking query in flight is Consul keeping quiet, not Consul gone: with Wait longer than
                // StaleAfter (the defaults: 5 min and 30 s) a quiet service would flap stale between answers.
                // Only a failed call starts the clock; the client's own timeout turns a hung query into one.
                var failingFor = status.FailingSince is { } since ? now - since : TimeSpan.Zero;
                var fresh = status.IsReachable || failingFor < _options.StaleAfter;
                if (watched.Stale && fresh)
                {
                    // Consul answers again with nothing new (same index): its last word counts again.
                    watched.Stale = false;
                    reload = true;
                    LogFresh(watched.Selection.Service);
                    foreach (var clusterId in watched.Clusters)
                    {
                        ReportStates_NeedsLock(clusterId, watched.Last.Instances, previous: []);
                    }
                }
                else if (!watched.Stale && !fresh)
                {
                    // Consul's word is too old to count: keep the instances, let probes judge them.
                    watched.Stale = true;
                    reload = true;
                    LogStale(watched.Selection.Service, failingFor);
                    foreach (var clusterId in watched.Clusters)
                    {
                        foreach (var instance in watched.Last.Instances)
                        {
                            _store.Report(clusterId, instance.Id, HealthSource.Registry, null);
                        }
                    }
                }
            }
        }

        if (reload)
        {
            _reload.Reload();
        }
    }

    private void ReportStates_NeedsLock(string clusterId, IReadOnlyList<ConsulServiceInstance> instances, IReadOnlyList<ConsulServiceInstance> previous)
    {
        foreach (var instance in instances)
        {
            _store.Report(clusterId, instance.Id, HealthSource.Registry, instance.State);
        }

        foreach (var gone in previous)
        {
            if (!instances.Any(i => i.Id == gone.Id))
            {
                _store.Report(clusterId, gone.Id, HealthSource.Registry, null);
            }
        }
    }

    private static Dictionary<string, DestinationConfig> ToDestinations(IReadOnlyList<ConsulServiceInstance> instances, string? scheme)
    {
        var destinations = new Dictionary<string, DestinationConfig>(instances.Count, StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            var address = new UriBuilder(scheme ?? Uri.UriSchemeHttp, instance.Address, instance.Port).Uri.ToString();
            destinations[instance.Id] = new DestinationConfig { Address = address };
        }

        return destinations;
    }

    private static bool SameMembers(IReadOnlyDictionary<string, DestinationConfig> left, Dictionary<string, DestinationConfig> right) =>
        left.Count == right.Count && left.All(pair => right.TryGetValue(pair.Key, out var other) && other.Address == pair.Value.Address);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryWatching, Level = LogLevel.Information, Message = "Watching Consul service {Service}.")]
    private partial void LogWatching(string service);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryStale, Level = LogLevel.Warning,
        Message = "Consul has been failing for service {Service} for {Age}; serving its last known instances, judged by the gateway's own probes.")]
    private partial void LogStale(string service, TimeSpan age);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryFresh, Level = LogLevel.Information, Message = "Consul answers again for service {Service}; its states count again.")]
    private partial void LogFresh(string service);

    public void OnClusterAdded(ClusterState cluster) => OnClusterChanged(cluster);

    /// <summary>Notes when YARP has applied a watched service's current destinations to a cluster.</summary>
    public void OnClusterChanged(ClusterState cluster)
    {
        lock (_lock)
        {
            if (_bindings.TryGetValue(cluster.ClusterId, out var watched)
                && watched.Destinations is { } destinations
                && destinations.Keys.All(cluster.Destinations.ContainsKey))
            {
                watched.Applied.Add(cluster.ClusterId);
            }
        }
    }

    public void OnClusterRemoved(ClusterState cluster)
    {
    }

    private sealed class Watched(ServiceSelection selection, ConsulServiceWatch watch)
    {
        /// <summary>Clusters whose YARP destinations include this service's latest instances.</summary>
        public HashSet<string> Applied { get; } = new(StringComparer.Ordinal);

        public ServiceSelection Selection { get; } = selection;

        public ConsulServiceWatch Watch { get; } = watch;

        public HashSet<string> Clusters { get; } = new(StringComparer.Ordinal);

        public ConsulServiceSnapshot? Last { get; set; }

        public IReadOnlyDictionary<string, DestinationConfig>? Destinations { get; set; }

        public bool Stale { get; set; }
    }
}
