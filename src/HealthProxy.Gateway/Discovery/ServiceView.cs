using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>What a Consul-backed cluster gets on a config load.</summary>
/// <param name="Destinations">The instances of the latest good snapshot, or null before Consul's first answer.</param>
/// <param name="Stale">Whether that snapshot is older than <see cref="DiscoveryOptions.StaleAfter"/>.</param>
internal sealed record ServiceView(IReadOnlyDictionary<string, DestinationConfig>? Destinations, bool Stale);
