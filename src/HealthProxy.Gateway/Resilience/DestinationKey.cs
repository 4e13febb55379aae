namespace HealthProxy.Gateway.Resilience;

/// <summary>Names one destination's circuit breaker in the registry.</summary>
internal readonly record struct DestinationKey(string ClusterId, string DestinationId);
