namespace HealthProxy.Gateway.Discovery;

/// <summary>One watched Consul service as the gateway sees the registry.</summary>
/// <param name="Service">The Consul service.</param>
/// <param name="Reachable">Whether Consul's last answer for it succeeded.</param>
/// <param name="Stale">Whether its snapshot is too old for Consul's states to count.</param>
/// <param name="DataAge">
/// Time since Consul last confirmed the data, or null before the first answer: zero while a blocking query is
/// open (Consul would answer a change at once) or just answered, changed or not; it grows only while Consul fails.
/// </param>
/// <param name="Datacenter">The datacenter the watch asks, or null for the agent's own.</param>
public sealed record RegistryStatus(string Service, bool Reachable, bool Stale, TimeSpan? DataAge, string? Datacenter = null);
