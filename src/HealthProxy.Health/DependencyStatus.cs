namespace HealthProxy.Health;

/// <summary>The state of one dependency as a service sees it.</summary>
/// <param name="Status">The dependency's state.</param>
/// <param name="Critical">Whether the service cannot work without it (down -> the service is unhealthy) or can limp on (down -> degraded).</param>
public sealed record DependencyStatus(HealthState Status, bool Critical);
