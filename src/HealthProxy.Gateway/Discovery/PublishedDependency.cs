using HealthProxy.Health;

namespace HealthProxy.Gateway.Discovery;

/// <summary>One dependency as a cluster's instances publish it in their status documents.</summary>
/// <param name="ClusterId">The cluster routing to the Consul service.</param>
/// <param name="Dependency">The dependency's name in the status document.</param>
/// <param name="State">The worst state any instance reports for it.</param>
/// <param name="Critical">Whether any instance calls it critical.</param>
public sealed record PublishedDependency(string ClusterId, string Dependency, HealthState State, bool Critical);
