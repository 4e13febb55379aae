using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Reporting.Checks;

/// <summary>Options of one downstream-service check, named after the check.</summary>
public sealed class DownstreamCheckOptions
{
    /// <summary>The downstream's health endpoint (absolute http or https). Required; no default.</summary>
    [Required]
    public Uri? Uri { get; set; }

    /// <summary>How long the GET may take, headers included. Default: 3 seconds; 1 ms to 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);
}
