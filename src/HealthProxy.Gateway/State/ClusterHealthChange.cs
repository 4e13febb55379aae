using System.Collections.Immutable;
using HealthProxy.Gateway.Routing;

namespace HealthProxy.Gateway.State;

/// <summary>
/// One change of a cluster's routing snapshot, published by <see cref="InstanceHealthStore"/> in the order it made
/// them, after the new snapshot is in the <see cref="RoutingTable"/>.
/// </summary>
/// <param name="ClusterId">The cluster.</param>
/// <param name="Previous">The snapshot replaced; null when the cluster appeared.</param>
/// <param name="Current">The snapshot now; null when the cluster was removed.</param>
/// <param name="Transitions">The instances whose state changed, joined or left, in destination id order.</param>
internal sealed record ClusterHealthChange(string ClusterId, ClusterRouting? Previous, ClusterRouting? Current, ImmutableArray<InstanceTransition> Transitions);
