namespace HealthProxy.Consul.Simulator;

/// <summary>A check in the simulated catalog. Mutated only under <see cref="SimulatorState"/>'s lock.</summary>
internal sealed class SimCheck
{
    public required string Node { get; init; }

    public required string CheckId { get; init; }

    public required string Name { get; set; }

    public string Status { get; set; } = "critical";

    public string Notes { get; set; } = "";

    public string Output { get; set; } = "";

    /// <summary>The service the check belongs to; empty for node checks.</summary>
    public string ServiceId { get; init; } = "";

    public string ServiceName { get; set; } = "";

    public string Type { get; init; } = "";

    public TimeSpan? Ttl { get; set; }

    /// <summary>The output before TTL expiry, for Consul's "last output before timeout follows" text.</summary>
    public string LastTtlOutput { get; set; } = "";

    public ITimer? TtlTimer { get; set; }

    public int OutputMaxSize { get; set; }

    /// <summary>Remove the service once this check has been critical this long (at least 1 minute, like Consul).</summary>
    public TimeSpan? DeregisterCriticalAfter { get; set; }

    /// <summary>When the check last turned critical (a TimeProvider timestamp); null while not critical.</summary>
    public long? CriticalSince { get; set; }

    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; set; }
}
