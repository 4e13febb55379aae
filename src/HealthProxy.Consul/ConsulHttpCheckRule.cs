namespace HealthProxy.Consul;

/// <summary>
/// How Consul's own HTTP checks judge a response (<c>agent/checks/check.go</c>): 2xx is passing, 429 Too Many
/// Requests is warning (the instance is up but shedding load), anything else is critical. The gateway's probes
/// read a bare status code by the same rule, so a 429 means degraded whichever of the two saw it.
/// </summary>
public static class ConsulHttpCheckRule
{
    /// <summary>The check status Consul gives an HTTP check that got <paramref name="statusCode"/>.</summary>
    public static ConsulCheckStatus StatusFor(int statusCode) => statusCode switch
    {
        >= 200 and <= 299 => ConsulCheckStatus.Passing,
        429 => ConsulCheckStatus.Warning,
        _ => ConsulCheckStatus.Critical,
    };
}
