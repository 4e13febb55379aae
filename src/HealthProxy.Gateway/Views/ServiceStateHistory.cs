using System.Collections.Immutable;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// Each service's state over the last hour, as <see cref="HealthViews"/> judged it: one entry per change, oldest
/// first, at most <see cref="Capacity"/> per service. Owned and written by <see cref="HealthViews"/> (under its lock,
/// as it applies a change); a service's history goes when the service leaves the views.
/// </summary>
/// <remarks>
/// Entries older than <see cref="Window"/> are dropped as new ones arrive, except the newest of them: the state the
/// hour began in. Readers take <see cref="Current"/>, an immutable map replaced whole on every write.
/// </remarks>
internal sealed class ServiceStateHistory
{
    /// <summary>How far back a history reaches.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    /// <summary>The most changes kept per service; a service flapping faster keeps its latest ones.</summary>
    public const int Capacity = 120;

    private ImmutableDictionary<string, ImmutableArray<ServiceStateChange>> _current =
        ImmutableDictionary.Create<string, ImmutableArray<ServiceStateChange>>(StringComparer.Ordinal);

    /// <summary>Every service's changes now, oldest first.</summary>
    public ImmutableDictionary<string, ImmutableArray<ServiceStateChange>> Current => Volatile.Read(ref _current);

    /// <summary>Records that <paramref name="service"/> is in <paramref name="health"/> since <paramref name="at"/>; nothing when it already was.</summary>
    internal void Record(string service, AggregateHealth health, DateTimeOffset at)
    {
        var current = _current;
        var changes = current.TryGetValue(service, out var found) ? found : [];
        if (changes.Length > 0 && changes[^1].Health == health)
        {
            return;
        }

        var start = 0;
        while (start + 1 < changes.Length && changes[start + 1].At <= at - Window)
        {
            start++;
        }

        start = Math.Max(start, changes.Length + 1 - Capacity);
        var next = ImmutableArray.CreateBuilder<ServiceStateChange>(changes.Length - start + 1);
        next.AddRange(changes.AsSpan(start, changes.Length - start));
        next.Add(new ServiceStateChange(at, health));
        Volatile.Write(ref _current, current.SetItem(service, next.MoveToImmutable()));
    }

    /// <summary>Forgets <paramref name="service"/>, which left the views.</summary>
    internal void Remove(string service)
    {
        var current = _current;
        if (current.ContainsKey(service))
        {
            Volatile.Write(ref _current, current.Remove(service));
        }
    }
}

/// <summary>A service entered <paramref name="Health"/> at <paramref name="At"/>.</summary>
internal readonly record struct ServiceStateChange(DateTimeOffset At, AggregateHealth Health);
