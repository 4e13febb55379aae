using HealthProxy.Consul;
using HealthProxy.Health;

namespace HealthProxy.Reporting.Publishing;

/// <summary>What the TTL check and the maintenance flag say for one state of the service.</summary>
/// <param name="Status">The TTL check's status.</param>
/// <param name="Maintenance">Whether the instance is in service maintenance mode.</param>
/// <remarks>
/// Consul syncs status changes to the catalog at once but output-only changes late (minutes), so every state that
/// routing must react to maps onto a different status or maintenance flag: healthy passing, degraded warning,
/// unhealthy and starting critical (both take no traffic), draining critical and in maintenance.
/// </remarks>
internal readonly record struct PublishedCheck(ConsulCheckStatus Status, bool Maintenance)
{
    public static PublishedCheck For(HealthState state) => state switch
    {
        HealthState.Healthy => new(ConsulCheckStatus.Passing, Maintenance: false),
        HealthState.Degraded => new(ConsulCheckStatus.Warning, Maintenance: false),
        HealthState.Draining => new(ConsulCheckStatus.Critical, Maintenance: true),
        _ => new(ConsulCheckStatus.Critical, Maintenance: false),
    };
}
