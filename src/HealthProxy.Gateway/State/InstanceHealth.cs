using HealthProxy.Health;

namespace HealthProxy.Gateway.State;

/// <summary>One instance's state as the gateway sees it at one moment.</summary>
/// <param name="ClusterId">The YARP cluster.</param>
/// <param name="DestinationId">The YARP destination.</param>
/// <param name="State">The worst of its sources; null until any source has spoken (routed as healthy).</param>
/// <param name="Source">The source that decided <paramref name="State"/>, if any.</param>
/// <param name="Since">When <paramref name="State"/> last changed.</param>
/// <param name="RoutableSince">
/// When it last became routable after being unhealthy, starting, draining or absent (slow start ramps from here); null
/// when it has been routable since its cluster appeared.
/// </param>
public sealed record InstanceHealth(string ClusterId, string DestinationId, HealthState? State, HealthSource? Source, DateTimeOffset Since, DateTimeOffset? RoutableSince = null)
{
    /// <summary>The state routing uses: an instance nobody has judged yet is taken as healthy, as YARP does.</summary>
    public HealthState RoutingState => State ?? HealthState.Healthy;
}
