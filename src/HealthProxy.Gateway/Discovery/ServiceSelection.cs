namespace HealthProxy.Gateway.Discovery;

/// <summary>Which instances of which Consul service; clusters with equal selections share one watch.</summary>
/// <param name="Service">The Consul service name.</param>
/// <param name="Tags">Required tags, sorted and comma-joined (empty for none), so equal sets compare equal.</param>
/// <param name="Filter">A Consul filter expression, or null.</param>
/// <param name="Datacenter">The datacenter, or null for the agent's.</param>
/// <param name="Scheme">The destination scheme as configured, or null for http.</param>
internal sealed record ServiceSelection(string Service, string Tags, string? Filter, string? Datacenter, string? Scheme);
