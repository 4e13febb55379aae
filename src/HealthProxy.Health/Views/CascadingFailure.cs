using System.Collections.Immutable;

namespace HealthProxy.Health.Views;

/// <summary>An unhealthy service and every service that depends on it, directly or transitively.</summary>
/// <param name="Root">The unhealthy service that no other unhealthy service explains.</param>
/// <param name="Affected">Its dependents, nearest first, each once.</param>
/// <param name="Since">When the root became unhealthy.</param>
public sealed record CascadingFailure(string Root, ImmutableArray<string> Affected, DateTimeOffset Since);
