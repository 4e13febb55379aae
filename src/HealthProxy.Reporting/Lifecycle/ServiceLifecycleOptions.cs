using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Reporting.Lifecycle;

/// <summary>How the service starts and drains.</summary>
public sealed class ServiceLifecycleOptions
{
    /// <summary>
    /// How long the service keeps serving after shutdown begins (<c>ApplicationStopping</c>) while readiness
    /// answers 503 <c>draining</c>, so that Kubernetes, load balancers and registries stop sending traffic before
    /// the server closes. Default: 5 seconds. Between 0 and 5 minutes; keep it below the host's
    /// <c>HostOptions.ShutdownTimeout</c> (30 seconds by default), which cuts it short.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether the host opens the startup gate itself once it has started (<c>ApplicationStarted</c>).
    /// Default: <see langword="false"/>: the app calls <see cref="IServiceLifecycle.MarkReady"/> when it has
    /// finished initialising (migrations, cache warm-up).
    /// </summary>
    public bool ReadyWhenStarted { get; set; }
}
