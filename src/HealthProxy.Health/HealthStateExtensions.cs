namespace HealthProxy.Health;

/// <summary>The routing and naming rules of <see cref="HealthState"/>.</summary>
public static class HealthStateExtensions
{
    /// <summary>
    /// Whether an instance in <paramref name="state"/> may take a request of <paramref name="kind"/>:
    /// healthy takes everything, degraded takes reads, the rest take nothing.
    /// </summary>
    public static bool Accepts(this HealthState state, RequestKind kind) => state switch
    {
        HealthState.Healthy => true,
        HealthState.Degraded => kind == RequestKind.Read,
        _ => false,
    };

    /// <summary>The state that wins when two are combined (see <see cref="HealthState"/> for the order).</summary>
    public static HealthState Worst(this HealthState state, HealthState other) => state >= other ? state : other;

    /// <summary>The lower-case wire name: <c>healthy</c>, <c>degraded</c>, <c>starting</c>, <c>draining</c>, <c>unhealthy</c>.</summary>
    public static string ToWireName(this HealthState state) => state switch
    {
        HealthState.Healthy => HealthStateNames.Healthy,
        HealthState.Degraded => HealthStateNames.Degraded,
        HealthState.Starting => HealthStateNames.Starting,
        HealthState.Draining => HealthStateNames.Draining,
        HealthState.Unhealthy => HealthStateNames.Unhealthy,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a health state."),
    };
}
