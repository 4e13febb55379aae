namespace HealthProxy.Consul.Api;

/// <summary>A service instance as it appears in health answers.</summary>
public sealed record ConsulAgentService
{
    /// <summary>The instance ID, unique per agent (not per datacenter).</summary>
    public string? ID { get; init; }

    /// <summary>The service name.</summary>
    public string? Service { get; init; }

    /// <summary>The instance's tags.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>The instance's address; empty means "use the node's address".</summary>
    public string? Address { get; init; }

    /// <summary>Named addresses (<c>lan</c>, <c>wan</c>, …).</summary>
    public IReadOnlyDictionary<string, ConsulServiceAddress>? TaggedAddresses { get; init; }

    /// <summary>Instance metadata (≤64 pairs).</summary>
    public IReadOnlyDictionary<string, string>? Meta { get; init; }

    /// <summary>The instance's port.</summary>
    public int Port { get; init; }

    /// <summary>DNS weights by aggregated status.</summary>
    public ConsulWeights? Weights { get; init; }
}
