namespace HealthProxy.Gateway.Discovery;

/// <summary>One watched Consul service as the gateway sees the registry.</summary>
/// <param name="Service">The Consul service.</param>
/// <param name="Reachable">Whether Consul's last answer for it succeeded.</param>
/// <param name="Stale">Whether its snapshot is too old for Consul's states to count.</param>
/// <param name="DataAge">Time since Consul last answered successfully, or null before the first answer.</param>
public sealed record RegistryStatus(string Service, bool Reachable, bool Stale, TimeSpan? DataAge);
