namespace HealthProxy.Health;

/// <summary>
/// The names of the states on the wire (probe bodies, published statuses, JSON views), and the
/// aliases that common health endpoints use for "healthy".
/// </summary>
public static class HealthStateNames
{
    /// <summary>
    /// The gRPC response metadata (header or trailer) in which a service states its own state, one of these names,
    /// beside a <c>grpc.health.v1</c> answer: the reporting library sends it, the gateway's gRPC probes read it.
    /// </summary>
    public const string GrpcMetadataKey = "healthproxy-state";

    /// <summary><c>healthy</c>.</summary>
    public const string Healthy = "healthy";

    /// <summary><c>degraded</c>.</summary>
    public const string Degraded = "degraded";

    /// <summary><c>starting</c>.</summary>
    public const string Starting = "starting";

    /// <summary><c>draining</c>.</summary>
    public const string Draining = "draining";

    /// <summary><c>unhealthy</c>.</summary>
    public const string Unhealthy = "unhealthy";

    /// <summary>
    /// Parses a status word, case-insensitively. <c>healthy</c>, <c>ready</c>, <c>alive</c>,
    /// <c>ok</c>, <c>up</c> and <c>pass</c> mean healthy; <c>degraded</c> and <c>warn</c> mean degraded;
    /// <c>unhealthy</c>, <c>down</c> and <c>fail</c> mean unhealthy; <c>starting</c> and <c>draining</c> are
    /// themselves. Anything else is not a status.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out HealthState state)
    {
        text = text.Trim();
        state = default;
        if (Is(text, Healthy) || Is(text, "ready") || Is(text, "alive") || Is(text, "ok") || Is(text, "up") || Is(text, "pass"))
        {
            state = HealthState.Healthy;
            return true;
        }

        if (Is(text, Degraded) || Is(text, "warn"))
        {
            state = HealthState.Degraded;
            return true;
        }

        if (Is(text, Unhealthy) || Is(text, "down") || Is(text, "fail"))
        {
            state = HealthState.Unhealthy;
            return true;
        }

        if (Is(text, Starting))
        {
            state = HealthState.Starting;
            return true;
        }

        if (Is(text, Draining))
        {
            state = HealthState.Draining;
            return true;
        }

        return false;
    }

    private static bool Is(ReadOnlySpan<char> text, string name) => text.Equals(name, StringComparison.OrdinalIgnoreCase);
}
