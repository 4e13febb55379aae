namespace HealthProxy.Consul.Simulator;

/// <summary>A check as registered (from the HTTP body or a test hook), before it becomes a <see cref="SimCheck"/>.</summary>
internal sealed record CheckSpec(string? CheckId, string? Name, string? Status, TimeSpan? Ttl, string? Notes, string? Output, string Type, int OutputMaxSize, TimeSpan? DeregisterCriticalAfter = null);
