namespace HealthProxy.Consul.Api;

/// <summary>One of a service's tagged addresses.</summary>
public sealed record ConsulServiceAddress
{
    /// <summary>The address.</summary>
    public string? Address { get; init; }

    /// <summary>The port.</summary>
    public int Port { get; init; }
}
