using System.Text.Json.Serialization;

namespace HealthProxy.Consul.Api;

/// <summary>A check embedded in a service registration. Durations go on the wire as Go strings (<c>"15s"</c>).</summary>
public sealed record ConsulCheckRegistration
{
    /// <summary>The check ID; set it explicitly when you will update the check (Consul's generated one is <c>service:&lt;ID&gt;</c>).</summary>
    public string? CheckID { get; init; }

    /// <summary>The check's name.</summary>
    public string? Name { get; init; }

    /// <summary>The TTL: the check turns critical when no update arrives within it.</summary>
    [JsonConverter(typeof(GoDurationConverter))]
    public TimeSpan? TTL { get; init; }

    /// <summary>Human notes.</summary>
    public string? Notes { get; init; }

    /// <summary>The initial status (<c>passing</c>, <c>warning</c>, <c>critical</c>); <see langword="null"/> = critical.</summary>
    public string? Status { get; init; }

    /// <summary>Remove the whole service after the check has been critical this long (minimum 1 minute).</summary>
    [JsonConverter(typeof(GoDurationConverter))]
    public TimeSpan? DeregisterCriticalServiceAfter { get; init; }
}
