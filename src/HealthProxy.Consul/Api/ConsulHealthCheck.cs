namespace HealthProxy.Consul.Api;

/// <summary>A check as it appears in health answers.</summary>
public sealed record ConsulHealthCheck
{
    /// <summary>The node the check belongs to.</summary>
    public string? Node { get; init; }

    /// <summary>The check ID (maintenance is recognised by it, not by the status).</summary>
    public string? CheckID { get; init; }

    /// <summary>The check's name.</summary>
    public string? Name { get; init; }

    /// <summary><c>passing</c>, <c>warning</c> or <c>critical</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Human notes (the reason, for maintenance checks).</summary>
    public string? Notes { get; init; }

    /// <summary>The check's output (a TTL check's published text; may lag behind status changes).</summary>
    public string? Output { get; init; }

    /// <summary>The service the check belongs to; empty for node checks.</summary>
    public string? ServiceID { get; init; }

    /// <summary>The name of the service the check belongs to; empty for node checks.</summary>
    public string? ServiceName { get; init; }

    /// <summary>The tags of the service the check belongs to.</summary>
    public IReadOnlyList<string>? ServiceTags { get; init; }

    /// <summary>The check's type (<c>ttl</c>, <c>http</c>, …) where the agent reports it.</summary>
    public string? Type { get; init; }
}
