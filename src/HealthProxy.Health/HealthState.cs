namespace HealthProxy.Health;

/// <summary>
/// The health of one instance, or of anything aggregated from instances.
/// </summary>
/// <remarks>
/// Values are ordered by precedence: when states are combined the larger value wins, so
/// <see cref="Unhealthy"/> &gt; <see cref="Draining"/> &gt; <see cref="Starting"/> &gt;
/// <see cref="Degraded"/> &gt; <see cref="Healthy"/>. Combining is therefore a maximum.
/// </remarks>
public enum HealthState
{
    /// <summary>Fully operational: takes reads and writes.</summary>
    Healthy = 0,

    /// <summary>Partly working (serving from cache, a non-critical dependency down): takes reads only.</summary>
    Degraded = 1,

    /// <summary>Initialising: takes no traffic yet.</summary>
    Starting = 2,

    /// <summary>Shutting down gracefully: finishes what it has, takes nothing new.</summary>
    Draining = 3,

    /// <summary>Cannot serve: takes no traffic.</summary>
    Unhealthy = 4,
}
