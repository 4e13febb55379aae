namespace HealthProxy.Consul.Api;

/// <summary>The body of <c>PUT /v1/agent/service/register</c>.</summary>
public sealed record ConsulServiceRegistration
{
    /// <summary>The service name (required).</summary>
    public required string Name { get; init; }

    /// <summary>The instance ID, unique on the agent; <see langword="null"/> = <see cref="Name"/>.</summary>
    public string? ID { get; init; }

    /// <summary>Tags.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>The address; <see langword="null"/> = the node's.</summary>
    public string? Address { get; init; }

    /// <summary>The port.</summary>
    public int? Port { get; init; }

    /// <summary>Metadata (≤64 pairs); <c>category</c> is read by HealthProxy.</summary>
    public IReadOnlyDictionary<string, string>? Meta { get; init; }

    /// <summary>DNS weights; omitted = Consul's <c>{1,1}</c>.</summary>
    public ConsulWeights? Weights { get; init; }

    /// <summary>The service's check, typically a TTL check the service keeps current.</summary>
    public ConsulCheckRegistration? Check { get; init; }
}
