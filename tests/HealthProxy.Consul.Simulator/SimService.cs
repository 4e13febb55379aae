namespace HealthProxy.Consul.Simulator;

/// <summary>A service instance in the simulated catalog. Mutated only under <see cref="SimulatorState"/>'s lock.</summary>
internal sealed class SimService
{
    public required string Node { get; init; }

    public required string Id { get; init; }

    public required string Name { get; set; }

    public List<string> Tags { get; set; } = [];

    public string Address { get; set; } = "";

    public int Port { get; set; }

    public Dictionary<string, string> Meta { get; set; } = new(StringComparer.Ordinal);

    public int WeightPassing { get; set; } = 1;

    public int WeightWarning { get; set; } = 1;

    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; set; }
}
