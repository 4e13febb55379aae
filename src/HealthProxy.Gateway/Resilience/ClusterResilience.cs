using System.Collections.Concurrent;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One cluster's resilience state, shared by its destinations: its resolved settings, its retry budget, its
/// ejection cap, and the <see cref="PassiveHealth"/> object of each destination it has now.
/// </summary>
/// <remarks>
/// Created when YARP announces the cluster and released with it. The destination map follows YARP's
/// <c>ClusterState.Destinations</c> on every cluster change (<see cref="OutlierDetector"/> diffs them), so it never
/// holds a destination that no longer exists. Requests read the map and <see cref="Settings"/> without a lock;
/// <see cref="Sync"/> guards only the ejection count, taken when a destination is ejected or returns.
/// </remarks>
internal sealed class ClusterResilience
{
    private readonly ConcurrentDictionary<string, PassiveHealth> _destinations = new(StringComparer.Ordinal);
    private volatile ClusterSettings _settings;
    private int _ejected;
    private int _destinationCount;

    public ClusterResilience(OutlierDetector detector, string clusterId, ClusterSettings settings, RetryBudget budget)
    {
        Detector = detector;
        ClusterId = clusterId;
        _settings = settings;
        Budget = budget;
    }

    public OutlierDetector Detector { get; }

    public string ClusterId { get; }

    /// <summary>The settings in force; replaced whole when the cluster's configuration changes.</summary>
    public ClusterSettings Settings => _settings;

    public RetryBudget Budget { get; }

    /// <summary>Guards the ejection count.</summary>
    public Lock Sync { get; } = new();

    /// <summary>How many destinations the cluster has (the base of the ejection percentage).</summary>
    public int DestinationCount => Volatile.Read(ref _destinationCount);

    /// <summary>Destinations ejected now.</summary>
    public int EjectedCount
    {
        get
        {
            lock (Sync)
            {
                return _ejected;
            }
        }
    }

    /// <summary>The destination objects held now, for tests of their lifecycle.</summary>
    internal int PassiveHealthCount => _destinations.Count;

    /// <summary>The passive health of <paramref name="destinationId"/>; false for a destination the cluster does not have.</summary>
    public bool TryGet(string destinationId, out PassiveHealth health) => _destinations.TryGetValue(destinationId, out health!);

    /// <summary>Whether one more ejection keeps the cluster within its cap; if so, it is counted.</summary>
    public bool TryReserveEjection(out int ejected)
    {
        lock (Sync)
        {
            if ((_ejected + 1) * 100 <= _settings.Options.MaxEjectionPercent * DestinationCount)
            {
                _ejected++;
                ejected = _ejected;
                return true;
            }

            ejected = _ejected;
            return false;
        }
    }

    /// <summary>An ejected destination returned or went away.</summary>
    public void ReleaseEjection()
    {
        lock (Sync)
        {
            _ejected--;
        }
    }

    /// <summary>
    /// Makes the destination objects follow <paramref name="present"/> (YARP's destination ids now): new ones are
    /// created, gone ones released with their timers; <paramref name="settings"/>, when new, reset each detector.
    /// Called from YARP's configuration thread only.
    /// </summary>
    public void Apply(ClusterSettings settings, IReadOnlyCollection<string> present)
    {
        // Only a change of the detectors' options resets them; a new retry policy leaves their counts alone.
        var changed = !ReferenceEquals(_settings, settings) && _settings.Options != settings.Options;
        _settings = settings;
        Volatile.Write(ref _destinationCount, present.Count);
        var keep = present as ISet<string> ?? new HashSet<string>(present, StringComparer.Ordinal);
        foreach (var (id, health) in _destinations)
        {
            if (!keep.Contains(id) && _destinations.TryRemove(id, out _))
            {
                health.Release();
            }
        }

        foreach (var id in present)
        {
            if (_destinations.TryGetValue(id, out var health))
            {
                if (changed)
                {
                    health.Reconfigure();
                }
            }
            else
            {
                _destinations[id] = new PassiveHealth(this, id);
            }
        }
    }

    /// <summary>The cluster went away: every destination object is released.</summary>
    public void Release()
    {
        foreach (var id in _destinations.Keys)
        {
            if (_destinations.TryRemove(id, out var health))
            {
                health.Release();
            }
        }
    }
}
