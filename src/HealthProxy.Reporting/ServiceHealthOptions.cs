using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Reporting;

/// <summary>How the service reports its health.</summary>
public sealed class ServiceHealthOptions
{
    /// <summary>
    /// The service's name in the status document. Default: the host's application name
    /// (<c>IHostEnvironment.ApplicationName</c>). Must not be empty.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string? ServiceName { get; set; }

    /// <summary>
    /// Which registered health checks count for readiness. Default: <see langword="null"/>, every registration.
    /// </summary>
    public Func<HealthCheckRegistration, bool>? Predicate { get; set; }
}
