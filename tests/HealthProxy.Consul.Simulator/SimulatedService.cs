namespace HealthProxy.Consul.Simulator;

/// <summary>A service instance a test registers directly, on any node.</summary>
public sealed record SimulatedService
{
    /// <summary>The node name; default the agent's node.</summary>
    public string? Node { get; init; }

    /// <summary>The node address, used when the node is new; default <c>127.0.0.1</c>.</summary>
    public string NodeAddress { get; init; } = "127.0.0.1";

    /// <summary>The service name.</summary>
    public required string Name { get; init; }

    /// <summary>The instance ID; <see langword="null"/> = <see cref="Name"/>.</summary>
    public string? ID { get; init; }

    /// <summary>Tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The address; empty = the node's.</summary>
    public string Address { get; init; } = "";

    /// <summary>The port.</summary>
    public int Port { get; init; }

    /// <summary>Metadata.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; init; } = new Dictionary<string, string>();

    /// <summary>Consul's <c>Weights.Passing</c> (default 1).</summary>
    public int WeightPassing { get; init; } = 1;

    /// <summary>Consul's <c>Weights.Warning</c> (default 1).</summary>
    public int WeightWarning { get; init; } = 1;

    /// <summary>The checks.</summary>
    public IReadOnlyList<SimulatedCheck> Checks { get; init; } = [];
}
