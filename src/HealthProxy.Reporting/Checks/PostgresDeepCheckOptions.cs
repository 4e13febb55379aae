using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Reporting.Checks;

/// <summary>Options of one PostgreSQL deep check, named after the check.</summary>
public sealed class PostgresDeepCheckOptions
{
    /// <summary>How long the whole check (open, <c>SELECT 1</c>, <c>SELECT txid_current()</c>) may take. Default: 2 seconds; 1 ms to 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}
