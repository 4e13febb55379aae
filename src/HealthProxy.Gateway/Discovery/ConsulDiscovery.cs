using System.Collections.Immutable;
using System.Globalization;
using HealthProxy.Consul;
using HealthProxy.Consul.Discovery;
using HealthProxy.Gateway.Configuration;
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
/// <para>
/// Lifecycle: a cluster is bound by <see cref="Bind(string, IReadOnlyList{ServiceSelection})"/> to one watch per
/// failover tier (its local datacenter's, then one per <c>consul.failover.datacenters</c> entry); removing the
/// cluster, dropping its Consul metadata (<see cref="Unbind"/>) or binding a tier to another selection releases what
/// was kept for it there (its binding, its <see cref="Published"/> entry, its registry reports), and a watch no
/// cluster binds any more is stopped, disposed and leaves <see cref="Status"/>. An instance that leaves Consul keeps its
/// registry state until YARP has removed its destination, then its report is withdrawn, so its departure
/// is never a transition of a routed instance to "unknown".
/// </para>
/// <para>
/// Threading: one lock guards the watches' bookkeeping; snapshot handling runs on each watch's
/// reader task, supervised (a fault is logged and the reader restarts after a backoff); nothing here is
/// on the request path.
/// </para>
/// </remarks>
internal sealed partial class ConsulDiscovery : IHostedService, IClusterChangeListener, IAsyncDisposable
{
    private static readonly TimeSpan StaleCheckPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a binding may wait for YARP to apply its cluster. The config filter binds before YARP validates the
    /// whole configuration, so a reload YARP refuses leaves bindings for clusters it never adds; past this they are
    /// released like a removed cluster's.
    /// </summary>
    internal static readonly TimeSpan OrphanGrace = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceSelection, Watched> _watches = [];

    // Which watches each cluster is bound to, one per failover tier, the local datacenter's first: a reload binds
    // every cluster, so finding its previous binding must not scan every watch (that made one reload
    // O(services^2) at 1,000 services).
    private readonly Dictionary<string, Watched[]> _bindings = new(StringComparer.Ordinal);

    // When each binding was made (guarded by _lock), for releasing those YARP never applied.
    private readonly Dictionary<string, DateTimeOffset> _boundSince = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly InstanceHealthStore _store;

    // Registry reports, queued under _lock in the order they were decided and handed to the store after it is
    // released: the store tells its readers on the reporting thread, which must hold no lock of ours.
    private readonly SerialDelivery<(string Cluster, string Destination, HealthSource Source, HealthState? State)> _reports;
    private readonly RetryBackoff _readerRestart;
    private readonly ConfigReloadSignal _reload;
    private readonly DiscoveryOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ConsulDiscovery> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTimeOffset _created;
    private IConsulClient? _client;
    private volatile ImmutableDictionary<string, PublishedService> _published = ImmutableDictionary.Create<string, PublishedService>(StringComparer.Ordinal);
    private ITimer? _staleTimer;

    // Released watches still stopping (guarded by _lock), so StopAsync waits for them too.
    private readonly List<Task> _releasing = [];

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
        _reports = new(report => _store.Report(report.Cluster, report.Destination, report.Source, report.State));
        _readerRestart = new RetryBackoff(TimeSpan.FromSeconds(1), _options.RetryMaxDelay, static () => 1);
    }

    /// <summary>True when every watched service has answered once, or the startup budget is spent.</summary>
    public bool InitialAnswersReceived
    {
        get
        {
            lock (_lock)
            {
                // Answered is not enough: YARP must have applied the answer's destinations, or the first
                // requests after startup find a cluster with nothing to route to. Only local datacenters are
                // waited for: a failover datacenter that does not answer must not hold the gateway's startup.
                return _watches.Values.Where(w => w.Clusters.ContainsValue(0)).All(w => w.Last is not null && w.Clusters.Keys.All(w.Applied.Contains))
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

    /// <summary>
    /// Each watched service's reachability and data age, for views and metrics. The age is the time since
    /// Consul last confirmed the data: an open blocking query confirms it, so a quiet, healthy Consul keeps
    /// it near zero; only failures make it grow.
    /// </summary>
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
                    w.Watch.Status.DataAge(now),
                    w.Selection.Datacenter))];
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

                    // What a cluster's service publishes comes from its local datacenter only.
                    foreach (var (clusterId, _) in watched.Clusters.Where(c => c.Value == 0))
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
    /// Called by the config filter on every load for a cluster without failover datacenters: makes sure the service
    /// is watched, remembers that <paramref name="clusterId"/> routes to it, and returns what the cluster should route to now.
    /// </summary>
    public ServiceView Bind(string clusterId, ServiceSelection selection) => Bind(clusterId, [selection]);

    /// <summary>
    /// Called by the config filter on every load: makes sure each of <paramref name="tiers"/> (the local selection
    /// first, then one per failover datacenter, in order) is watched, remembers that <paramref name="clusterId"/>
    /// routes to them, and returns what the cluster should route to now.
    /// </summary>
    public ServiceView Bind(string clusterId, IReadOnlyList<ServiceSelection> tiers)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tiers.Count);
        List<Watched>? released = null;
        var publishedChanged = false;
        ServiceView view;
        lock (_lock)
        {
            var watches = new Watched[tiers.Count];
            if (_bindings.TryGetValue(clusterId, out var bound))
            {
                // Let go of the tiers that changed only: an unchanged local watch keeps its states and its reports.
                for (var tier = 0; tier < bound.Length; tier++)
                {
                    if (tier >= tiers.Count || bound[tier].Selection != tiers[tier])
                    {
                        if (UnbindWatch_NeedsLock(clusterId, bound[tier], tier, ref publishedChanged) is { } gone)
                        {
                            (released ??= []).Add(gone);
                        }
                    }
                }
            }

            for (var tier = 0; tier < tiers.Count; tier++)
            {
                if (!_watches.TryGetValue(tiers[tier], out var watched))
                {
                    watched = StartWatch_NeedsLock(tiers[tier]);
                }

                watches[tier] = watched;
                if (watched.Clusters.TryAdd(clusterId, tier) && watched.Last is not null && !watched.Stale)
                {
                    ReportStates_NeedsLock(clusterId, tier, watched, watched.Last.Instances);
                }
            }

            _bindings[clusterId] = watches;
            _boundSince.TryAdd(clusterId, _timeProvider.GetUtcNow());
            if (watches[0].Last is { } last)
            {
                publishedChanged = SetPublished_NeedsLock(clusterId, last) || publishedChanged;
            }

            view = View_NeedsLock(watches);
        }

        _reports.Drain();
        AfterRelease(clusterId, released, publishedChanged);
        return view;
    }

    /// <summary>
    /// Called by the config filter for a cluster that names no Consul service (any more): releases what was
    /// kept for it, and stops its watches when no other cluster binds them. Does nothing for a cluster never bound.
    /// </summary>
    public void Unbind(string clusterId)
    {
        List<Watched>? released = null;
        var unpublished = false;
        lock (_lock)
        {
            if (_bindings.Remove(clusterId, out var bound))
            {
                _boundSince.Remove(clusterId);
                for (var tier = 0; tier < bound.Length; tier++)
                {
                    if (UnbindWatch_NeedsLock(clusterId, bound[tier], tier, ref unpublished) is { } gone)
                    {
                        (released ??= []).Add(gone);
                    }
                }
            }
        }

        _reports.Drain();
        AfterRelease(clusterId, released, unpublished);
    }

    /// <summary>
    /// What a cluster routes to: its tiers' latest good destinations, those of a failover datacenter under ids of
    /// their own (<c>datacenter/instance</c>) with their tier as <see cref="HealthProxyMetadata.Priority"/>; null
    /// before the local datacenter answered. Stale when any tier is.
    /// </summary>
    /// <remarks>
    /// Failover tiers join only once the local one has answered: a remote answer that came first would otherwise
    /// make the local instances a returning tier, held back for the failback delay at every start.
    /// </remarks>
    private static ServiceView View_NeedsLock(Watched[] tiers)
    {
        if (tiers.Length == 1 || tiers[0].Destinations is null)
        {
            return new ServiceView(tiers[0].Destinations, tiers[0].Stale);
        }

        Dictionary<string, DestinationConfig>? merged = null;
        var stale = false;
        for (var tier = 0; tier < tiers.Length; tier++)
        {
            var watched = tiers[tier];
            stale |= watched.Stale;
            if (watched.Destinations is not { } destinations)
            {
                continue;
            }

            merged ??= new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
            foreach (var (id, config) in destinations)
            {
                merged[DestinationId(watched, tier, id)] = tier == 0 ? config : config with { Metadata = WithPriority(config.Metadata, tier) };
            }
        }

        return new ServiceView(merged, stale);
    }

    private static Dictionary<string, string> WithPriority(IReadOnlyDictionary<string, string>? metadata, int tier)
    {
        var result = metadata is null ? new Dictionary<string, string>(1, StringComparer.Ordinal) : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        result[HealthProxyMetadata.Priority] = tier.ToString(CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>
    /// The destination id of one of a watch's instances in a cluster: the instance id in the local tier; prefixed with
    /// the datacenter in a failover tier, so the same node and service id in two datacenters stay two destinations.
    /// </summary>
    private static string DestinationId(Watched watched, int tier, string instanceId) =>
        tier == 0 ? instanceId : string.Concat(watched.Selection.Datacenter, "/", instanceId);

    /// <summary>
    /// Forgets that <paramref name="clusterId"/> routes to <paramref name="watched"/> as tier <paramref name="tier"/> and
    /// withdraws its registry reports; returns the watch, already out of <see cref="_watches"/>, when no cluster binds it any more.
    /// </summary>
    private Watched? UnbindWatch_NeedsLock(string clusterId, Watched watched, int tier, ref bool unpublished)
    {
        if (!watched.Clusters.Remove(clusterId))
        {
            return null;
        }

        watched.Applied.Remove(clusterId);
        if (watched.PendingWithdrawals.Remove(clusterId, out var gone))
        {
            foreach (var id in gone)
            {
                _reports.Enqueue((clusterId, DestinationId(watched, tier, id), HealthSource.Registry, null));
            }
        }

        if (watched.Last is not null)
        {
            foreach (var instance in watched.Last.Instances)
            {
                _reports.Enqueue((clusterId, DestinationId(watched, tier, instance.Id), HealthSource.Registry, null));
            }
        }

        if (tier == 0)
        {
            unpublished = _published.ContainsKey(clusterId) || unpublished;
            _published = _published.Remove(clusterId);
        }

        if (watched.Clusters.Count > 0)
        {
            return null;
        }

        _watches.Remove(watched.Selection);
        return watched;
    }

    /// <summary>Outside the lock: tells readers the cluster's published entry changed or went, and stops a watch no cluster binds.</summary>
    private void AfterRelease(string clusterId, List<Watched>? released, bool publishedChanged)
    {
        if (publishedChanged)
        {
            RaisePublishedChanged(clusterId);
        }

        foreach (var watched in released ?? [])
        {
            LogReleased(watched.Selection.Service);
            var stopping = StopReleasedAsync(watched);
            lock (_lock)
            {
                _releasing.RemoveAll(t => t.IsCompleted);
                if (!stopping.IsCompleted)
                {
                    _releasing.Add(stopping);
                }
            }
        }
    }

    private async Task StopReleasedAsync(Watched released)
    {
        try
        {
            await released.Watch.DisposeAsync().ConfigureAwait(false);
            if (released.Reader is { } reader)
            {
                await reader.ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            LogReleaseFaulted(ex, released.Selection.Service);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _staleTimer = _timeProvider.CreateTimer(
            _ =>
            {
                CheckStaleness();
                ReleaseOrphans();
            },
            null,
            StaleCheckPeriod,
            StaleCheckPeriod);
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
        List<Task> releasing;
        lock (_lock)
        {
            watches = [.. _watches.Values.Select(w => w.Watch)];
            releasing = [.. _releasing];
        }

        foreach (var watch in watches)
        {
            await watch.StopAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(releasing).ConfigureAwait(false);
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
        watched.Reader = Task.Run(() => ConsumeAsync(watched));
        LogWatching(selection.Service);
        return watched;
    }

    /// <summary>
    /// Applies each snapshot of one watch until it stops. A snapshot whose handling throws (a reader's
    /// handler, the store) is logged at Error with the exception; the reader starts again after a backoff and
    /// first applies the watch's newest snapshot, so it never dies silently and never stays behind.
    /// </summary>
    private async Task ConsumeAsync(Watched watched)
    {
        var faults = 0;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (faults > 0 && watched.Watch.Current is { } current)
                {
                    OnSnapshot(watched, current);
                }

                faults = 0;
                await foreach (var snapshot in watched.Watch.Snapshots.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
                {
                    OnSnapshot(watched, snapshot);
                }

                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                faults++;
                var delay = _readerRestart.Delay(faults);
                LogReaderFaulted(ex, watched.Selection.Service, delay);
                try
                {
                    await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private void OnSnapshot(Watched watched, ConsulServiceSnapshot snapshot)
    {
        bool reload;
        List<string> publishedChanged = [];
        lock (_lock)
        {
            if (ReferenceEquals(snapshot, watched.Last) || !_watches.TryGetValue(watched.Selection, out var live) || live != watched)
            {
                // Already applied, or the watch was released while this snapshot was on its way.
                return;
            }

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

            // States first: a destination the reload adds arrives with its state already known. An instance
            // that left keeps its state until YARP has dropped its destination (see OnClusterChanged).
            foreach (var (clusterId, tier) in watched.Clusters)
            {
                ReportStates_NeedsLock(clusterId, tier, watched, snapshot.Instances);
                NoteWithdrawals_NeedsLock(watched, clusterId, snapshot.Instances, previous);
                if (tier == 0 && SetPublished_NeedsLock(clusterId, snapshot))
                {
                    publishedChanged.Add(clusterId);
                }
            }
        }

        // States first, so a destination the reload adds is known; then the reload, before the published
        // handlers, so that a handler that throws cannot keep YARP from the new members.
        _reports.Drain();
        if (reload)
        {
            _reload.Reload();
        }

        foreach (var clusterId in publishedChanged)
        {
            RaisePublishedChanged(clusterId);
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

    /// <summary>Releases bindings whose cluster YARP has not applied within <see cref="OrphanGrace"/> (a refused reload's).</summary>
    private void ReleaseOrphans()
    {
        if (_services.GetService<Yarp.ReverseProxy.IProxyStateLookup>() is not { } yarp)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow();
        List<string>? orphans = null;
        lock (_lock)
        {
            foreach (var (clusterId, since) in _boundSince)
            {
                if (now - since >= OrphanGrace && !yarp.TryGetCluster(clusterId, out _))
                {
                    (orphans ??= []).Add(clusterId);
                }
            }
        }

        foreach (var clusterId in orphans ?? [])
        {
            Unbind(clusterId);
        }
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
                    foreach (var (clusterId, tier) in watched.Clusters)
                    {
                        ReportStates_NeedsLock(clusterId, tier, watched, watched.Last.Instances);
                    }
                }
                else if (!watched.Stale && !fresh)
                {
                    // Consul's word is too old to count: keep the instances, let probes judge them.
                    watched.Stale = true;
                    reload = true;
                    LogStale(watched.Selection.Service, failingFor);
                    foreach (var (clusterId, tier) in watched.Clusters)
                    {
                        foreach (var instance in watched.Last.Instances)
                        {
                            _reports.Enqueue((clusterId, DestinationId(watched, tier, instance.Id), HealthSource.Registry, null));
                        }
                    }
                }
            }
        }

        _reports.Drain();
        if (reload)
        {
            _reload.Reload();
        }
    }

    private void ReportStates_NeedsLock(string clusterId, int tier, Watched watched, IReadOnlyList<ConsulServiceInstance> instances)
    {
        foreach (var instance in instances)
        {
            _reports.Enqueue((clusterId, DestinationId(watched, tier, instance.Id), HealthSource.Registry, instance.State));
        }
    }

    /// <summary>Remembers the instances that left, to withdraw once the cluster no longer routes to them; forgets those back.</summary>
    private static void NoteWithdrawals_NeedsLock(Watched watched, string clusterId, IReadOnlyList<ConsulServiceInstance> instances, IReadOnlyList<ConsulServiceInstance> previous)
    {
        HashSet<string>? ids = null;
        foreach (var instance in instances)
        {
            ids ??= new HashSet<string>(instances.Count, StringComparer.Ordinal);
            ids.Add(instance.Id);
        }

        watched.PendingWithdrawals.TryGetValue(clusterId, out var pending);
        pending?.RemoveWhere(id => ids?.Contains(id) == true);
        foreach (var gone in previous)
        {
            if (ids?.Contains(gone.Id) != true)
            {
                if (pending is null)
                {
                    pending = new HashSet<string>(StringComparer.Ordinal);
                    watched.PendingWithdrawals[clusterId] = pending;
                }

                pending.Add(gone.Id);
            }
        }

        if (pending is { Count: 0 })
        {
            watched.PendingWithdrawals.Remove(clusterId);
        }
    }

    private static Dictionary<string, DestinationConfig> ToDestinations(IReadOnlyList<ConsulServiceInstance> instances, string? scheme)
    {
        var destinations = new Dictionary<string, DestinationConfig>(instances.Count, StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            var address = new UriBuilder(scheme ?? Uri.UriSchemeHttp, instance.Address, instance.Port).Uri.ToString();
            destinations[instance.Id] = new DestinationConfig { Address = address, Metadata = WeightMetadata(instance) };
        }

        return destinations;
    }

    /// <summary>
    /// Consul's weights as destination metadata, which routing reads for static and Consul destinations alike:
    /// <c>Weights.Passing</c> as the base weight, and <c>Weights.Warning</c> as the degraded weight when it differs
    /// from the passing one. Consul's default (both 1) states no reduction, so the cluster's degraded factor applies.
    /// </summary>
    private static Dictionary<string, string>? WeightMetadata(ConsulServiceInstance instance)
    {
        if (instance.WeightPassing == 1 && instance.WeightWarning == 1)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(2, StringComparer.Ordinal)
        {
            [HealthProxyMetadata.Weight] = instance.WeightPassing.ToString(CultureInfo.InvariantCulture),
        };
        if (instance.WeightWarning != instance.WeightPassing)
        {
            metadata[HealthProxyMetadata.DegradedWeight] = instance.WeightWarning.ToString(CultureInfo.InvariantCulture);
        }

        return metadata;
    }

    private static bool SameMembers(IReadOnlyDictionary<string, DestinationConfig> left, Dictionary<string, DestinationConfig> right) =>
        left.Count == right.Count && left.All(pair => right.TryGetValue(pair.Key, out var other)
            && other.Address == pair.Value.Address
            && SameMetadata(other.Metadata, pair.Value.Metadata));

    private static bool SameMetadata(IReadOnlyDictionary<string, string>? left, IReadOnlyDictionary<string, string>? right) =>
        (left?.Count ?? 0) == (right?.Count ?? 0)
        && (left is null || left.All(pair => right!.TryGetValue(pair.Key, out var value) && value == pair.Value));

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryWatching, Level = LogLevel.Information, Message = "Watching Consul service {Service}.")]
    private partial void LogWatching(string service);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryStale, Level = LogLevel.Warning,
        Message = "Consul has been failing for service {Service} for {Age}; serving its last known instances, judged by the gateway's own probes.")]
    private partial void LogStale(string service, TimeSpan age);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryFresh, Level = LogLevel.Information, Message = "Consul answers again for service {Service}; its states count again.")]
    private partial void LogFresh(string service);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryReleased, Level = LogLevel.Information, Message = "No cluster routes to Consul service {Service} any more; stopped watching it.")]
    private partial void LogReleased(string service);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryReaderFaulted, Level = LogLevel.Error,
        Message = "Applying Consul's answer for service {Service} failed; the reader restarts in {RetryIn} with the newest answer.")]
    private partial void LogReaderFaulted(Exception exception, string service, TimeSpan retryIn);

    /// <summary>Tells each reader of <see cref="PublishedChanged"/> on its own: one that throws keeps no other from hearing.</summary>
    private void RaisePublishedChanged(string clusterId)
    {
        if (PublishedChanged is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((Action<string>)handler)(clusterId);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogPublishedHandlerFailed(ex, clusterId);
            }
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryHandlerFailed, Level = LogLevel.Error,
        Message = "A reader of what cluster {ClusterId}'s Consul service publishes failed; the others still heard of the change.")]
    private partial void LogPublishedHandlerFailed(Exception exception, string clusterId);

    [LoggerMessage(EventId = GatewayEventIds.DiscoveryReleaseFaulted, Level = LogLevel.Error, Message = "Stopping the released watch of Consul service {Service} failed.")]
    private partial void LogReleaseFaulted(Exception exception, string service);

    public void OnClusterAdded(ClusterState cluster) => OnClusterChanged(cluster);

    /// <summary>
    /// Notes when YARP has applied a watched service's current destinations to a cluster, and withdraws the
    /// registry reports of instances that left Consul and whose destinations YARP has now dropped.
    /// </summary>
    public void OnClusterChanged(ClusterState cluster)
    {
        lock (_lock)
        {
            if (!_bindings.TryGetValue(cluster.ClusterId, out var watches))
            {
                return;
            }

            for (var tier = 0; tier < watches.Length; tier++)
            {
                var watched = watches[tier];
                if (watched.Destinations is { } destinations && destinations.Keys.All(id => cluster.Destinations.ContainsKey(DestinationId(watched, tier, id))))
                {
                    watched.Applied.Add(cluster.ClusterId);
                }

                if (watched.PendingWithdrawals.TryGetValue(cluster.ClusterId, out var gone))
                {
                    var withdrawnTier = tier;
                    gone.RemoveWhere(id =>
                    {
                        var destinationId = DestinationId(watched, withdrawnTier, id);
                        if (cluster.Destinations.ContainsKey(destinationId))
                        {
                            return false;
                        }

                        _reports.Enqueue((cluster.ClusterId, destinationId, HealthSource.Registry, null));
                        return true;
                    });
                    if (gone.Count == 0)
                    {
                        watched.PendingWithdrawals.Remove(cluster.ClusterId);
                    }
                }
            }
        }

        _reports.Drain();
    }

    /// <summary>Releases everything kept for the cluster; its watch stops when no other cluster binds it.</summary>
    public void OnClusterRemoved(ClusterState cluster) => Unbind(cluster.ClusterId);

    private sealed class Watched(ServiceSelection selection, ConsulServiceWatch watch)
    {
        /// <summary>Clusters whose YARP destinations include this service's latest instances.</summary>
        public HashSet<string> Applied { get; } = new(StringComparer.Ordinal);

        public ServiceSelection Selection { get; } = selection;

        public ConsulServiceWatch Watch { get; } = watch;

        /// <summary>The clusters routing to this service, each with the failover tier it is for them (0: their local datacenter).</summary>
        public Dictionary<string, int> Clusters { get; } = new(StringComparer.Ordinal);

        /// <summary>Per cluster, the instances that left Consul whose registry reports wait for YARP to drop their destinations.</summary>
        public Dictionary<string, HashSet<string>> PendingWithdrawals { get; } = new(StringComparer.Ordinal);

        /// <summary>The task applying this watch's snapshots.</summary>
        public Task? Reader { get; set; }

        public ConsulServiceSnapshot? Last { get; set; }

        public IReadOnlyDictionary<string, DestinationConfig>? Destinations { get; set; }

        public bool Stale { get; set; }
    }
}
