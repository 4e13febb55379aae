namespace HealthProxy.Health;

/// <summary>
/// What a service says about itself: its overall state, its own state and each dependency's.
/// It is the body of the service's health endpoints and the <c>Output</c> of its Consul TTL check,
/// and the gateway reads it back with <see cref="StatusDocumentJson"/>.
/// </summary>
/// <remarks>
/// On the wire (property names fixed, unknown properties ignored, state names as in <see cref="HealthStateNames"/>):
/// <code>
/// {"status":"degraded","service":"orders","own":"healthy",
///  "dependencies":{"postgres":{"status":"healthy","critical":true},"redis":{"status":"unhealthy","critical":false}}}
/// </code>
/// </remarks>
public sealed record StatusDocument
{
    /// <summary>The overall state: what routing should use.</summary>
    public required HealthState Status { get; init; }

    /// <summary>The service's name, when it says it.</summary>
    public string? Service { get; init; }

    /// <summary>The service's own state before its dependencies are counted, when it says it.</summary>
    public HealthState? Own { get; init; }

    /// <summary>Each dependency by name; empty when none are reported.</summary>
    public IReadOnlyDictionary<string, DependencyStatus> Dependencies { get; init; } =
        new Dictionary<string, DependencyStatus>(StringComparer.Ordinal);
}
