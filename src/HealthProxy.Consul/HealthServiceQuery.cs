namespace HealthProxy.Consul;

/// <summary>
/// The parameters of <c>GET /v1/health/service/:service</c>. There is deliberately no <c>passing</c>
/// option: it also drops <c>warning</c> instances, which a health-aware gateway still routes reads to.
/// </summary>
public sealed record HealthServiceQuery
{
    /// <summary>The index of the previous answer; 0 (the default) asks for an immediate answer.</summary>
    public ulong Index { get; init; }

    /// <summary>How long Consul may hold a blocking query (sent only with a non-zero <see cref="Index"/>); <see langword="null"/> = Consul's default of 5 minutes. Consul caps it at 10 minutes.</summary>
    public TimeSpan? Wait { get; init; }

    /// <summary>Tags every instance must carry (repeated <c>tag</c>, AND, case-insensitive); empty by default.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>A bexpr filter, e.g. <c>Service.Meta.version == "2"</c>; <see langword="null"/> by default.</summary>
    public string? Filter { get; init; }

    /// <summary>The datacenter; <see langword="null"/> = <see cref="ConsulClientOptions.Datacenter"/>.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The consistency mode; <see langword="null"/> = <see cref="ConsulClientOptions.Consistency"/>.</summary>
    public ConsulConsistency? Consistency { get; init; }
}
