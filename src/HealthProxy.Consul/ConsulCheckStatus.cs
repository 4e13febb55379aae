namespace HealthProxy.Consul;

/// <summary>The statuses Consul accepts when a check is written.</summary>
public enum ConsulCheckStatus
{
    /// <summary><c>passing</c>.</summary>
    Passing = 0,

    /// <summary><c>warning</c>.</summary>
    Warning = 1,

    /// <summary><c>critical</c>.</summary>
    Critical = 2,
}
