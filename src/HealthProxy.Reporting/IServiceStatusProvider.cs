using HealthProxy.Health;

namespace HealthProxy.Reporting;

/// <summary>
/// Says what the service is now: the <see cref="StatusDocument"/> served by the readiness endpoint and, later,
/// published to Consul.
/// </summary>
public interface IServiceStatusProvider
{
    /// <summary>
    /// Runs the registered health checks (only while the service is ready) and combines the service's own
    /// health with each dependency's: a failed critical dependency makes the service unhealthy, a failed
    /// non-critical one degraded. While starting or draining the document says so without running checks.
    /// </summary>
    /// <param name="cancellationToken">Cancels the checks; the cancellation propagates.</param>
    Task<StatusDocument> GetStatusAsync(CancellationToken cancellationToken);
}
