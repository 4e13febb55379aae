namespace HealthProxy.Consul;

/// <summary>Consul's check status words and the check IDs Consul reserves for maintenance and node health.</summary>
public static class ConsulCheckStatusNames
{
    /// <summary><c>passing</c>.</summary>
    public const string Passing = "passing";

    /// <summary><c>warning</c>.</summary>
    public const string Warning = "warning";

    /// <summary><c>critical</c>.</summary>
    public const string Critical = "critical";

    /// <summary>The check ID Consul adds to every instance of a node in maintenance.</summary>
    public const string NodeMaintenanceCheckId = "_node_maintenance";

    /// <summary>The prefix of the check ID Consul adds to a service in maintenance (<c>_service_maintenance:&lt;service id&gt;</c>).</summary>
    public const string ServiceMaintenanceCheckIdPrefix = "_service_maintenance:";

    /// <summary>The wire word for <paramref name="status"/>.</summary>
    public static string ToWireName(this ConsulCheckStatus status) => status switch
    {
        ConsulCheckStatus.Passing => Passing,
        ConsulCheckStatus.Warning => Warning,
        ConsulCheckStatus.Critical => Critical,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a Consul check status."),
    };
}
