namespace HealthProxy.Gateway.Discovery;

/// <summary>What a cluster's Consul service says about itself in its latest snapshot, for the views.</summary>
/// <param name="ServiceName">The Consul service.</param>
/// <param name="Category">The first <c>Service.Meta["category"]</c> among its instances, if any.</param>
/// <param name="Dependencies">The union of the dependency names its instances publish.</param>
internal sealed record PublishedService(string ServiceName, string? Category, IReadOnlyCollection<string> Dependencies);
