using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Reporting.Checks;

/// <summary>Options of one Redis deep check, named after the check.</summary>
public sealed class RedisDeepCheckOptions
{
    /// <summary>How long the whole check (write, read back, delete) may take. Default: 1 second; 1 ms to 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The prefix of the unique probe key (a GUID follows it). Default: <c>healthproxy:health:</c>. Must not be empty.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = "healthproxy:health:";

    /// <summary>
    /// The expiry of the probe key, so a check interrupted before its delete leaves nothing behind for long.
    /// Default: 10 seconds; 1 second to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeyExpiry { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The Redis database number. Default: -1, the connection's default database.</summary>
    [Range(-1, 65535)]
    public int Database { get; set; } = -1;
}
