namespace HealthProxy.Gateway.Hosting;

/// <summary>How the gateway stops (section <see cref="SectionName"/>): drain first, then finish what is in flight.</summary>
/// <remarks>
/// On SIGTERM readiness turns 503 <c>draining</c> at once (gRPC health: <c>NOT_SERVING</c>), the gateway keeps
/// serving for <see cref="DrainDelay"/> while load balancers and Kubernetes endpoints catch up, then the listener
/// closes and in-flight requests get up to <see cref="Timeout"/> to finish. The host's
/// <c>HostOptions.ShutdownTimeout</c> is set to their sum; a pod's <c>terminationGracePeriodSeconds</c> must exceed it.
/// </remarks>
public sealed class ShutdownOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Shutdown";

    /// <summary>The longest <see cref="DrainDelay"/> accepted.</summary>
    public static readonly TimeSpan MaxDrainDelay = TimeSpan.FromMinutes(5);

    /// <summary>The longest <see cref="Timeout"/> accepted.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long the gateway keeps serving after shutdown begins, with readiness answering 503. Default 5 seconds
    /// (Kubernetes takes a few seconds to take a terminating pod out of every endpoint list). 0 to 5 minutes.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long requests still in flight when the listener closes may take to finish; what is left then is cut.
    /// Default 20 seconds. Greater than 0, up to 10 minutes.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);
}
