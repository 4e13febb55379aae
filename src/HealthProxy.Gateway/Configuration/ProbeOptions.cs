namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// How the gateway's own active probes behave, beyond what YARP's
/// <c>ReverseProxy:Clusters:&lt;id&gt;:HealthCheck:Active</c> (Enabled, Interval, Timeout, Path, Query) says.
/// Bound from <c>HealthProxy:Probes</c>.
/// </summary>
public sealed class ProbeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Probes";

    /// <summary>The longest probe interval or timeout: longer waits (times <see cref="UnhealthyIntervalFactor"/> and jitter) would overflow the timers.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    /// <summary>Probe interval when a cluster enables probing without <c>Interval</c>. Default 15 s (YARP's default); at most 1 hour.</summary>
    public TimeSpan DefaultInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Probe timeout when a cluster enables probing without <c>Timeout</c>. Default 10 s (YARP's default); at most 1 hour.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Consecutive failed probes that take an established instance to unhealthy. Default 2, so one lost probe does not flap it.</summary>
    public int UnhealthyThreshold { get; set; } = 2;

    /// <summary>Consecutive good probes that bring an unhealthy instance back. Default 1.</summary>
    public int HealthyThreshold { get; set; } = 1;

    /// <summary>An unhealthy instance is probed this many times less often. Default 2.</summary>
    public double UnhealthyIntervalFactor { get; set; } = 2.0;

    /// <summary>Each wait is the interval times a random factor in [1 - Jitter, 1 + Jitter]. Default 0.2.</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>Probe bodies longer than this are not read; the status code alone decides. Default 16 KiB.</summary>
    public int MaxBodyBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// At most this many probes in flight during the first round (the one <c>/health/startup</c> waits
    /// for), so a gateway with thousands of destinations does not open thousands of connections and
    /// send thousands of requests in one burst at startup. Default 64; 1 to 10000.
    /// </summary>
    public int InitialConcurrency { get; set; } = 64;

    /// <summary>Every problem with these options, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (DefaultInterval <= TimeSpan.Zero || DefaultInterval > MaxInterval)
        {
            yield return $"{SectionName}:{nameof(DefaultInterval)} must be positive and at most {MaxInterval} (got {DefaultInterval}).";
        }

        if (DefaultTimeout <= TimeSpan.Zero || DefaultTimeout > MaxInterval)
        {
            yield return $"{SectionName}:{nameof(DefaultTimeout)} must be positive and at most {MaxInterval} (got {DefaultTimeout}).";
        }

        if (UnhealthyThreshold is < 1 or > 100)
        {
            yield return $"{SectionName}:{nameof(UnhealthyThreshold)} must be between 1 and 100 (got {UnhealthyThreshold}).";
        }

        if (HealthyThreshold is < 1 or > 100)
        {
            yield return $"{SectionName}:{nameof(HealthyThreshold)} must be between 1 and 100 (got {HealthyThreshold}).";
        }

        if (!(UnhealthyIntervalFactor >= 1.0 && UnhealthyIntervalFactor <= 60.0))
        {
            yield return $"{SectionName}:{nameof(UnhealthyIntervalFactor)} must be between 1 and 60 (got {UnhealthyIntervalFactor}).";
        }

        if (!(Jitter >= 0.0 && Jitter < 1.0))
        {
            yield return $"{SectionName}:{nameof(Jitter)} must be at least 0 and below 1 (got {Jitter}).";
        }

        if (InitialConcurrency is < 1 or > 10000)
        {
            yield return $"{SectionName}:{nameof(InitialConcurrency)} must be between 1 and 10000 (got {InitialConcurrency}).";
        }

        if (MaxBodyBytes is < 16 or > 1024 * 1024)
        {
            yield return $"{SectionName}:{nameof(MaxBodyBytes)} must be between 16 and 1048576 (got {MaxBodyBytes}).";
        }
    }
}
