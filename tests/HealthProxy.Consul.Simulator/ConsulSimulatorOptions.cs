namespace HealthProxy.Consul.Simulator;

/// <summary>How a <see cref="ConsulSimulator"/> starts.</summary>
public sealed record ConsulSimulatorOptions
{
    /// <summary>The clock for TTL expiry, blocking waits and slow answers; default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The node the agent endpoints register on.</summary>
    public string AgentNode { get; init; } = "sim-agent";

    /// <summary>The agent node's address.</summary>
    public string AgentAddress { get; init; } = "127.0.0.1";

    /// <summary>The datacenter.</summary>
    public string Datacenter { get; init; } = "dc1";

    /// <summary>When set, every request must carry this token (header or <c>?token=</c>) or gets 403.</summary>
    public string? AclToken { get; init; }

    /// <summary>Check output limit in bytes; default 4096 like Consul.</summary>
    public int OutputMaxSize { get; init; } = 4096;

    /// <summary>The first Raft index.</summary>
    public ulong InitialIndex { get; init; } = 10;
}
