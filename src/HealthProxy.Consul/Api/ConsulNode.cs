namespace HealthProxy.Consul.Api;

/// <summary>A Consul node as it appears in health and catalog answers.</summary>
public sealed record ConsulNode
{
    /// <summary>The node's UUID.</summary>
    public string? ID { get; init; }

    /// <summary>The node's name (unique in the datacenter).</summary>
    public string? Node { get; init; }

    /// <summary>The node's address: the fallback when the service has none.</summary>
    public string? Address { get; init; }

    /// <summary>The node's datacenter.</summary>
    public string? Datacenter { get; init; }

    /// <summary>Named addresses (<c>lan</c>, <c>wan</c>, …).</summary>
    public IReadOnlyDictionary<string, string>? TaggedAddresses { get; init; }

    /// <summary>Node metadata.</summary>
    public IReadOnlyDictionary<string, string>? Meta { get; init; }
}
