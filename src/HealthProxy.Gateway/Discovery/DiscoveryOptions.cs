namespace HealthProxy.Gateway.Discovery;

/// <summary>How the gateway uses Consul, bound from <c>HealthProxy:Discovery</c>. The Consul client itself is configured under <c>HealthProxy:Consul</c>.</summary>
public sealed class DiscoveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Discovery";

    /// <summary>Blocking query wait. Default 5 minutes (Consul's default; it caps at 10).</summary>
    public TimeSpan Wait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait between retries while Consul fails (backoff doubles from 1 s, with jitter). Default 30 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When Consul's calls have been failing for this long, the last snapshot is stale: its instances keep
    /// serving, Consul's states stop counting and the gateway's own probes decide. A blocking query still
    /// waiting is not a failure (the client's timeout bounds it). Default 30 s.
    /// </summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <c>/health/startup</c> waits for Consul's first answer before starting anyway. Default 10 s.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The probe path used while stale, for clusters that configure no active probing. Default <c>/health/ready</c>.</summary>
    public string FallbackProbePath { get; set; } = "/health/ready";

    /// <summary>The probe interval used while stale. Default 5 s.</summary>
    public TimeSpan FallbackProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Every problem, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (Wait <= TimeSpan.Zero || Wait > TimeSpan.FromMinutes(10))
        {
            yield return $"{SectionName}:{nameof(Wait)} must be positive and at most 10 minutes (got {Wait}).";
        }

        if (RetryMaxDelay < TimeSpan.FromSeconds(1))
        {
            yield return $"{SectionName}:{nameof(RetryMaxDelay)} must be at least 1 second (got {RetryMaxDelay}).";
        }

        if (StaleAfter <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:{nameof(StaleAfter)} must be positive (got {StaleAfter}).";
        }

        if (StartupTimeout < TimeSpan.Zero)
        {
            yield return $"{SectionName}:{nameof(StartupTimeout)} must not be negative (got {StartupTimeout}).";
        }

        if (string.IsNullOrWhiteSpace(FallbackProbePath) || FallbackProbePath[0] != '/')
        {
            yield return $"{SectionName}:{nameof(FallbackProbePath)} must start with '/' (got '{FallbackProbePath}').";
        }

        if (FallbackProbeInterval <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:{nameof(FallbackProbeInterval)} must be positive (got {FallbackProbeInterval}).";
        }
    }
}
