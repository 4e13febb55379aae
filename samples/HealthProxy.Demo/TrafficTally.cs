using System.Collections.Concurrent;
using HealthProxy.Health;

namespace HealthProxy.Demo;

/// <summary>Counts, per request kind, which instance answered (or that the request failed).</summary>
internal sealed class TrafficTally
{
    private readonly ConcurrentDictionary<(RequestKind Kind, string Instance), int> _counts = new();

    public void Add(RequestKind kind, string instance) => _counts.AddOrUpdate((kind, instance), 1, (_, n) => n + 1);

    /// <summary>Returns the counts since the last call and starts again.</summary>
    public Dictionary<(RequestKind Kind, string Instance), int> Drain()
    {
        var snapshot = new Dictionary<(RequestKind, string), int>();
        foreach (var key in _counts.Keys)
        {
            if (_counts.TryRemove(key, out var count))
            {
                snapshot[key] = count;
            }
        }

        return snapshot;
    }
}
