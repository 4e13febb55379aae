namespace HealthProxy.Gateway.State;

/// <summary>Where a state comes from. An instance's state is the worst of its sources.</summary>
public enum HealthSource
{
    /// <summary>The gateway's own active probe.</summary>
    Probe = 0,

    /// <summary>The service registry (Consul checks and published status).</summary>
    Registry = 1,

    /// <summary>Passive outcomes of forwarded traffic (the circuit breaker).</summary>
    Breaker = 2,
}
