using System.Collections.Concurrent;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// The gateway's active probing, in place of YARP's own monitor (registered before
/// <c>AddReverseProxy</c>, which then adds none). It reads the same cluster settings
/// (<c>HealthCheck:Active</c>) but probes each destination on its own jittered schedule, reads the
/// five-state body (or, for a cluster whose <c>HealthProxy.ProbeProtocol</c> is <c>grpc</c>, a
/// <c>grpc.health.v1</c> answer: <see cref="GrpcProbe"/>), damps flapping, and reports to the <see cref="InstanceHealthStore"/>.
/// </summary>
/// <remarks>
/// Threading: one <see cref="DestinationProber"/> loop per destination; cluster changes (YARP's
/// listener calls) reconcile the set of loops under a lock. Probes never touch the request path.
/// </remarks>
internal sealed partial class ActiveProbeMonitor : IActiveHealthCheckMonitor, IClusterChangeListener, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ClusterState> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Cluster, string Destination), DestinationProber> _probers = new();

    // The probers of each cluster (guarded by _lock), so a cluster change touches only its own
    // destinations instead of scanning every prober (O(clusters x destinations) at startup).
    private readonly Dictionary<string, Dictionary<string, DestinationProber>> _byCluster = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly IProbingRequestFactory _requestFactory;
    private readonly InstanceHealthStore _store;
    private readonly GatewayMetrics _metrics;
    private readonly ProbeOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ActiveProbeMonitor> _logger;
    private volatile bool _started;
    private int _disposed;

    // The probe opinions of removed destinations, queued under _lock and withdrawn from the store after it is
    // released (the store tells its readers on the reporting thread).
    private readonly SerialDelivery<(string Cluster, string Destination)> _withdrawals;

    public ActiveProbeMonitor(
        IProbingRequestFactory requestFactory,
        InstanceHealthStore store,
        GatewayMetrics metrics,
        IOptions<ProbeOptions> options,
        TimeProvider timeProvider,
        ILogger<ActiveProbeMonitor> logger)
    {
        _requestFactory = requestFactory;
        _store = store;
        _metrics = metrics;
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        _withdrawals = new(gone => _store.Report(gone.Cluster, gone.Destination, HealthSource.Probe, null));
    }

    /// <summary>True once the first round of probes (of every cluster that probes) has finished.</summary>
    public bool InitialProbeCompleted { get; private set; }

    /// <summary>The probe loops now running, for views and tests.</summary>
    public int ProberCount => _probers.Count;

    public async Task CheckHealthAsync(IEnumerable<ClusterState> clusters)
    {
        try
        {
            List<DestinationProber> first;
            lock (_lock)
            {
                foreach (var cluster in clusters)
                {
                    _clusters[cluster.ClusterId] = cluster;
                    Reconcile_NeedsLock(cluster);
                }

                first = [.. _probers.Values];
            }

            _withdrawals.Drain();

            await ProbeAllAsync(first, _options.InitialConcurrency).ConfigureAwait(false);
            LogRoundCompleted(first.Count);
        }
        finally
        {
            InitialProbeCompleted = true;
            lock (_lock)
            {
                _started = true;
                foreach (var prober in _probers.Values)
                {
                    prober.Start(spreadFirstWait: true);
                }
            }
        }
    }

    /// <summary>
    /// Probes each prober once, at most <paramref name="concurrency"/> at a time: that many workers
    /// take the next prober from a shared index until none is left. Completes when all have answered
    /// or failed; a probe that faults is logged and leaves the rest of the round going.
    /// </summary>
    private Task ProbeAllAsync(List<DestinationProber> probers, int concurrency)
    {
        if (probers.Count == 0)
        {
            return Task.CompletedTask;
        }

        var next = -1;
        var workers = new Task[Math.Clamp(concurrency, 1, probers.Count)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = WorkAsync();
        }

        return Task.WhenAll(workers);

        async Task WorkAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < probers.Count)
            {
                try
                {
                    await probers[i].ProbeOnceAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // Its loop, started after the round, probes it again within one interval.
                    var cluster = probers[i].Cluster;
                    LogLoopFaulted(ex, cluster.ClusterId, probers[i].DestinationId, cluster.Model.Config.HealthCheck?.Active?.Interval ?? _options.DefaultInterval);
                }
            }
        }
    }

    public void OnClusterAdded(ClusterState cluster) => OnClusterChanged(cluster);

    public void OnClusterChanged(ClusterState cluster)
    {
        lock (_lock)
        {
            _clusters[cluster.ClusterId] = cluster;
            Reconcile_NeedsLock(cluster);
        }

        _withdrawals.Drain();
    }

    public void OnClusterRemoved(ClusterState cluster)
    {
        lock (_lock)
        {
            _clusters.Remove(cluster.ClusterId);
            if (_byCluster.Remove(cluster.ClusterId, out var own))
            {
                foreach (var (destinationId, prober) in own)
                {
                    _probers.TryRemove((cluster.ClusterId, destinationId), out _);
                    prober.Dispose();
                }
            }
        }
    }

    public void Dispose()
    {
        // DI disposes this once per registration that hands it out; only the first call counts.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        foreach (var prober in _probers.Values)
        {
            prober.Dispose();
        }

        _probers.Clear();
        lock (_lock)
        {
            _byCluster.Clear();
        }

        _stopping.Dispose();
    }

    private void Reconcile_NeedsLock(ClusterState cluster)
    {
        var active = cluster.Model.Config.HealthCheck?.Active;
        var enabled = active?.Enabled == true;
        var destinations = cluster.Destinations;
        _byCluster.TryGetValue(cluster.ClusterId, out var own);

        if (own is not null)
        {
            List<string>? gone = null;
            foreach (var destinationId in own.Keys)
            {
                if (!enabled || !destinations.ContainsKey(destinationId))
                {
                    (gone ??= []).Add(destinationId);
                }
            }

            if (gone is not null)
            {
                foreach (var destinationId in gone)
                {
                    own.Remove(destinationId, out var prober);
                    _probers.TryRemove((cluster.ClusterId, destinationId), out _);
                    prober!.Dispose();
                    _withdrawals.Enqueue((cluster.ClusterId, destinationId));
                }
            }
        }

        if (!enabled)
        {
            if (own is { Count: 0 })
            {
                _byCluster.Remove(cluster.ClusterId);
            }

            return;
        }

        if (own is null)
        {
            own = new Dictionary<string, DestinationProber>(destinations.Count, StringComparer.Ordinal);
            _byCluster[cluster.ClusterId] = own;
        }

        foreach (var (destinationId, _) in destinations)
        {
            if (own.TryGetValue(destinationId, out var existing))
            {
                existing.Cluster = cluster;
                continue;
            }

            var prober = new DestinationProber(this, cluster, destinationId);
            own[destinationId] = prober;
            _probers[(cluster.ClusterId, destinationId)] = prober;
            if (_started)
            {
                // A destination added at run time is probed at once, then on its schedule.
                prober.Start(spreadFirstWait: false);
            }
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.ProbeRoundCompleted, Level = LogLevel.Information,
        Message = "First round of active probes completed for {Count} destinations.")]
    private partial void LogRoundCompleted(int count);

    [LoggerMessage(EventId = GatewayEventIds.ProbeFailed, Level = LogLevel.Debug,
        Message = "Probe of {ClusterId}/{DestinationId} failed: {Reason}.")]
    private partial void LogProbeFailed(string clusterId, string destinationId, string reason);

    [LoggerMessage(EventId = GatewayEventIds.ProbeLoopFaulted, Level = LogLevel.Error,
        Message = "Probing {ClusterId}/{DestinationId} faulted (not counted against the instance); probing again in {RetryIn}.")]
    private partial void LogLoopFaulted(Exception exception, string clusterId, string destinationId, TimeSpan retryIn);
}
