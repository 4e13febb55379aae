namespace HealthProxy.Consul.Simulator;

/// <summary>A check a test registers directly through <see cref="ConsulSimulator.RegisterService"/>.</summary>
public sealed record SimulatedCheck
{
    /// <summary>The check ID; <see langword="null"/> = generated like Consul (<c>service:&lt;ID&gt;</c>).</summary>
    public string? CheckID { get; init; }

    /// <summary>The name; <see langword="null"/> = <c>Service '&lt;name&gt;' check</c>.</summary>
    public string? Name { get; init; }

    /// <summary>The initial status; default <c>critical</c>, like Consul.</summary>
    public string Status { get; init; } = "critical";

    /// <summary>The output.</summary>
    public string Output { get; init; } = "";

    /// <summary>The TTL, making this a TTL check that expires through the simulator's clock.</summary>
    public TimeSpan? Ttl { get; init; }
}
