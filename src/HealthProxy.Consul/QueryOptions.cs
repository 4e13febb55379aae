namespace HealthProxy.Consul;

/// <summary>The parameters shared by Consul's read queries.</summary>
public sealed record QueryOptions
{
    /// <summary>The index of the previous answer; 0 (the default) asks for an immediate answer.</summary>
    public ulong Index { get; init; }

    /// <summary>How long Consul may hold a blocking query; <see langword="null"/> = Consul's default of 5 minutes.</summary>
    public TimeSpan? Wait { get; init; }

    /// <summary>A bexpr filter; <see langword="null"/> by default.</summary>
    public string? Filter { get; init; }

    /// <summary>The datacenter; <see langword="null"/> = <see cref="ConsulClientOptions.Datacenter"/>.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The consistency mode; <see langword="null"/> = <see cref="ConsulClientOptions.Consistency"/>.</summary>
    public ConsulConsistency? Consistency { get; init; }
}
