namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One cluster's resolved resilience settings and its shared runtime state: the retry budget and which
/// destinations its breakers have ejected. Replaced (and the cluster's breakers rebuilt) when its settings change.
/// </summary>
internal sealed class ClusterPolicy : IDisposable
{
    private readonly CancellationTokenSource _reload = new();

    public ClusterPolicy(string clusterId, OutlierDetectionOptions options, bool retriesEnabled, RetryBudget budget, HashSet<string>? ejected)
    {
        ClusterId = clusterId;
        Options = options;
        RetriesEnabled = retriesEnabled;
        Budget = budget;
        // Validated before it gets here; an unreadable set would count nothing as a failure.
        FailureStatusCodes = StatusCodeSet.TryParse(options.FailureStatusCodes, out var codes) ? codes : StatusCodeSet.Empty;
        Ejected = ejected ?? new HashSet<string>(StringComparer.Ordinal);
    }

    public string ClusterId { get; }

    public OutlierDetectionOptions Options { get; }

    public StatusCodeSet FailureStatusCodes { get; }

    public bool RetriesEnabled { get; }

    public RetryBudget Budget { get; }

    /// <summary>Cancelled when this policy is replaced, so the registry rebuilds the cluster's breakers.</summary>
    public CancellationToken Reload => _reload.Token;

    /// <summary>Guards <see cref="Ejected"/>.</summary>
    public Lock Sync { get; } = new();

    /// <summary>Destination ids ejected by their breakers now. Guarded by <see cref="Sync"/>.</summary>
    public HashSet<string> Ejected { get; }

    /// <summary>How many destinations the cluster has (the base of the ejection percentage).</summary>
    public int DestinationCount { get; set; }

    /// <summary>Whether ejecting one more destination keeps the cluster within <see cref="OutlierDetectionOptions.MaxEjectionPercent"/>.</summary>
    public bool MayEject_NeedsLock() => (Ejected.Count + 1) * 100 <= Options.MaxEjectionPercent * DestinationCount;

    public void Retire() => _reload.Cancel();

    public void Dispose() => _reload.Dispose();
}
