namespace HealthProxy.Consul.Simulator;

/// <summary>A node in the simulated catalog. Mutated only under <see cref="SimulatorState"/>'s lock.</summary>
internal sealed class SimNode
{
    public required string Name { get; init; }

    public required string Address { get; set; }

    public required string Id { get; init; }

    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; set; }
}
