using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>Where the three Kubernetes health endpoints are mapped (each path must start with <c>/</c>), and how gRPC health watches.</summary>
public sealed class ServiceHealthEndpointOptions
{
    /// <summary>The startup probe: 503 <c>{"status":"starting"}</c> until the app is ready, then 200. Default: <c>/health/startup</c>.</summary>
    [Required]
    [RegularExpression("^/.*")]
    public string StartupPath { get; set; } = "/health/startup";

    /// <summary>The readiness probe: the status document; 200 when healthy or degraded, 503 otherwise. Default: <c>/health/ready</c>.</summary>
    [Required]
    [RegularExpression("^/.*")]
    public string ReadyPath { get; set; } = "/health/ready";

    /// <summary>The liveness probe: always 200 <c>{"status":"alive"}</c>, never runs checks. Default: <c>/health/live</c>.</summary>
    [Required]
    [RegularExpression("^/.*")]
    public string LivePath { get; set; } = "/health/live";

    /// <summary>
    /// How often an open gRPC <c>Watch</c> re-reads the service's status (running the checks) to push a change; a
    /// lifecycle move (ready, draining) is pushed at once. Default: 5 seconds; from 100 ms to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan GrpcWatchInterval { get; set; } = TimeSpan.FromSeconds(5);
}
