using System.Collections.Concurrent;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Passive health for every cluster YARP has: one <see cref="ClusterResilience"/> per cluster holding one
/// <see cref="PassiveHealth"/> per destination, kept in step with YARP's clusters and destinations, and the
/// mapping from ejections to the <see cref="InstanceHealthStore"/>, which stays the only routing truth: ejecting
/// reports <see cref="HealthSource.Breaker"/> Unhealthy, an ejection's end withdraws that opinion.
/// </summary>
/// <remarks>
/// Everything kept for a destination lives in its <see cref="PassiveHealth"/>, so it goes when the destination
/// goes: each cluster change diffs YARP's <c>ClusterState.Destinations</c> against the objects held. An ejection
/// also ends early when the destination's probe, having seen it unhealthy, sees it back (as Envoy's
/// <c>successful_active_health_check_uneject_host</c>): the store raises <see cref="InstanceHealthStore.ProbeRecovered"/>
/// outside its lock. Threading: cluster changes come from YARP's configuration thread; requests only read the maps.
/// </remarks>
internal sealed partial class OutlierDetector : IClusterChangeListener, IDisposable
{
    private readonly ConcurrentDictionary<string, ClusterResilience> _clusters = new(StringComparer.Ordinal);
    private readonly OutlierDetectionOptions _defaults;
    private readonly RetryOptions _retries;
    private readonly InstanceHealthStore _store;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<OutlierDetector> _logger;

    // Ejections and their ends, queued under the destination's lock (which orders them) and handed to the store
    // after it is released: the store tells its readers on the reporting thread, which must hold no lock of ours.
    private readonly SerialDelivery<(string Cluster, string Destination, HealthState? State)> _reports;

    public OutlierDetector(
        IOptions<OutlierDetectionOptions> defaults,
        IOptions<RetryOptions> retries,
        InstanceHealthStore store,
        TimeProvider timeProvider,
        GatewayMetrics metrics,
        ILogger<OutlierDetector> logger)
    {
        _defaults = defaults.Value;
        _retries = retries.Value;
        _store = store;
        TimeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
        _reports = new(report => _store.Report(report.Cluster, report.Destination, HealthSource.Breaker, report.State));
        _store.ProbeRecovered += OnProbeRecovered;
    }

    public TimeProvider TimeProvider { get; }

    /// <summary>How many destination objects are held now, over all clusters (for tests of their lifecycle).</summary>
    internal int PassiveHealthCount => _clusters.Values.Sum(c => c.PassiveHealthCount);

    /// <summary>The cluster's shared state; false for a cluster YARP has not announced.</summary>
    public bool TryGetCluster(string clusterId, out ClusterResilience cluster) => _clusters.TryGetValue(clusterId, out cluster!);

    public void OnClusterAdded(ClusterState cluster) => Sync(cluster);

    public void OnClusterChanged(ClusterState cluster) => Sync(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        if (_clusters.TryRemove(cluster.ClusterId, out var resilience))
        {
            resilience.Release();
        }

        Deliver();
    }

    public void Dispose()
    {
        _store.ProbeRecovered -= OnProbeRecovered;
        foreach (var clusterId in _clusters.Keys)
        {
            if (_clusters.TryRemove(clusterId, out var resilience))
            {
                resilience.Release();
            }
        }

        Deliver();
    }

    /// <summary>Queues the ejection of a destination for the store (see <see cref="Deliver"/>).</summary>
    internal void Eject(string clusterId, string destinationId) => _reports.Enqueue((clusterId, destinationId, HealthState.Unhealthy));

    /// <summary>Queues the withdrawal of a destination's passive health opinion for the store (see <see cref="Deliver"/>).</summary>
    internal void Withdraw(string clusterId, string destinationId) => _reports.Enqueue((clusterId, destinationId, null));

    /// <summary>Hands queued ejections and withdrawals to the store, in order; call it holding no lock.</summary>
    internal void Deliver() => _reports.Drain();

    internal void Ejected(string clusterId, string destinationId, string reason, TimeSpan length)
    {
        _metrics.Ejection(clusterId);
        LogEjected(clusterId, destinationId, length, reason);
    }

    internal void EjectionRefused(ClusterResilience cluster, string destinationId, string reason, int ejected)
    {
        _metrics.EjectionRefused(cluster.ClusterId);
        LogEjectionRefused(cluster.ClusterId, destinationId, reason, ejected, cluster.DestinationCount, cluster.Settings.Options.MaxEjectionPercent);
    }

    internal void TrialDue(string clusterId, string destinationId) => LogTrialDue(clusterId, destinationId);

    internal void Returned(string clusterId, string destinationId) => LogReturned(clusterId, destinationId);

    internal void EndedByProbe(string clusterId, string destinationId) => LogEndedByProbe(clusterId, destinationId);

    private void Sync(ClusterState cluster)
    {
        var config = cluster.Model.Config;
        var options = _defaults.WithOverrides(config.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", []);
        var retry = RetryPolicy.Default.With(config.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", route: false, []);
        var failoverTimeout = FailoverTimeout.Parse(config.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", []);
        var present = new HashSet<string>(cluster.Destinations.Keys, StringComparer.Ordinal);
        if (_clusters.TryGetValue(cluster.ClusterId, out var current))
        {
            var settings = current.Settings.Options == options && current.Settings.Retry.Equals(retry)
                && current.Settings.FailoverTimeout?.Timeout == failoverTimeout?.Timeout
                ? current.Settings
                : new ClusterSettings(options, _retries.Enabled, retry, failoverTimeout);
            current.Apply(settings, present);
            Deliver();
            return;
        }

        var added = new ClusterResilience(this, cluster.ClusterId, new ClusterSettings(options, _retries.Enabled, retry, failoverTimeout), new RetryBudget(_retries, TimeProvider));
        added.Apply(added.Settings, present);
        _clusters[cluster.ClusterId] = added;
    }

    private void OnProbeRecovered(string clusterId, string destinationId)
    {
        if (_clusters.TryGetValue(clusterId, out var cluster) && cluster.TryGet(destinationId, out var health))
        {
            health.ProbeRecovered();
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.OutlierEjected, Level = LogLevel.Error,
        Message = "Instance {ClusterId}/{DestinationId} ejected for {EjectionLength}: {Reason}.")]
    private partial void LogEjected(string clusterId, string destinationId, TimeSpan ejectionLength, string reason);

    [LoggerMessage(EventId = GatewayEventIds.OutlierEjectionRefused, Level = LogLevel.Warning,
        Message = "Instance {ClusterId}/{DestinationId} stays in service although {Reason}: {Ejected} of {Count} instances are ejected already and at most {MaxPercent}% may be.")]
    private partial void LogEjectionRefused(string clusterId, string destinationId, string reason, int ejected, int count, int maxPercent);

    [LoggerMessage(EventId = GatewayEventIds.OutlierTrialDue, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId}'s ejection ended; its next request is the trial.")]
    private partial void LogTrialDue(string clusterId, string destinationId);

    [LoggerMessage(EventId = GatewayEventIds.OutlierReturned, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId} passed its trial and is back in service.")]
    private partial void LogReturned(string clusterId, string destinationId);

    [LoggerMessage(EventId = GatewayEventIds.OutlierEndedByProbe, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId}'s probe saw it come back; its ejection ends now.")]
    private partial void LogEndedByProbe(string clusterId, string destinationId);
}
