using HealthProxy.Health;

namespace HealthProxy.Gateway.State;

/// <summary>One instance's state change, as the store made it.</summary>
/// <param name="DestinationId">The YARP destination.</param>
/// <param name="From">The state before; null when no source had judged it (or it just joined).</param>
/// <param name="To">The state after; null when no source judges it any more, or when it left.</param>
/// <param name="Source">The source that decides <paramref name="To"/>, if any.</param>
/// <param name="Left">True when the instance left its cluster (config or registry): it is gone, not unjudged.</param>
internal readonly record struct InstanceTransition(string DestinationId, HealthState? From, HealthState? To, HealthSource? Source, bool Left);
