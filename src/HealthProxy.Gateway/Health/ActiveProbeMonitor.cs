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
/// five-state body, damps flapping, and reports to the <see cref="InstanceHealthStore"/>.
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
    private readonly CancellationTokenSource _stopping = new();
    private readonly IProbingRequestFactory _requestFactory;
    private readonly InstanceHealthStore _store;
    private readonly GatewayMetrics _metrics;
    private readonly ProbeOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ActiveProbeMonitor> _logger;
    private volatile bool _started;
    private int _disposed;

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

            await Task.WhenAll(first.Select(p => p.ProbeOnceAsync())).ConfigureAwait(false);
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

    public void OnClusterAdded(ClusterState cluster) => OnClusterChanged(cluster);

    public void OnClusterChanged(ClusterState cluster)
    {
        lock (_lock)
        {
            _clusters[cluster.ClusterId] = cluster;
            Reconcile_NeedsLock(cluster);
        }
    }

    public void OnClusterRemoved(ClusterState cluster)
    {
        lock (_lock)
        {
            _clusters.Remove(cluster.ClusterId);
            foreach (var key in _probers.Keys.Where(k => k.Cluster == cluster.ClusterId).ToList())
            {
                if (_probers.TryRemove(key, out var prober))
                {
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
        _stopping.Dispose();
    }

    private void Reconcile_NeedsLock(ClusterState cluster)
    {
        var active = cluster.Model.Config.HealthCheck?.Active;
        var enabled = active?.Enabled == true;
        var wanted = enabled ? cluster.Destinations.Keys.ToHashSet(StringComparer.Ordinal) : [];

        foreach (var key in _probers.Keys.Where(k => k.Cluster == cluster.ClusterId && !wanted.Contains(k.Destination)).ToList())
        {
            if (_probers.TryRemove(key, out var prober))
            {
                prober.Dispose();
                _store.Report(key.Cluster, key.Destination, HealthSource.Probe, null);
            }
        }

        foreach (var destinationId in wanted)
        {
            var key = (cluster.ClusterId, destinationId);
            if (_probers.TryGetValue(key, out var existing))
            {
                existing.Cluster = cluster;
                continue;
            }

            var prober = new DestinationProber(this, cluster, destinationId);
            _probers[key] = prober;
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
        Message = "The probe loop of {ClusterId}/{DestinationId} faulted; it restarts on its next interval.")]
    private partial void LogLoopFaulted(Exception exception, string clusterId, string destinationId);
}
