namespace HealthProxy.Reporting.Publishing;

/// <summary>
/// How the service registers itself in Consul and keeps its TTL check current. Bound from
/// <see cref="SectionName"/> by <see cref="ConsulPublishingHealthChecksBuilderExtensions.PublishToConsul"/> and
/// validated at startup; a bad value stops the host with a message that names the key.
/// </summary>
public sealed class ConsulPublishingOptions
{
    /// <summary>The configuration section the options are read from: <c>HealthProxy:Publishing</c>.</summary>
    public const string SectionName = "HealthProxy:Publishing";

    /// <summary>
    /// The instance ID, unique on the Consul agent. Default: <c>&lt;ServiceName&gt;-&lt;machine name&gt;-&lt;Port&gt;</c>,
    /// computed at the first registration. Must not contain <c>/</c>, <c>?</c>, <c>#</c> or white space (it goes in URL paths).
    /// </summary>
    public string? ServiceId { get; set; }

    /// <summary>The service name in Consul. Default: <see cref="ServiceHealthOptions.ServiceName"/>.</summary>
    public string? ServiceName { get; set; }

    /// <summary>The address the gateway should call. Default: <see langword="null"/>, the Consul agent node's address.</summary>
    public string? Address { get; set; }

    /// <summary>
    /// The port the gateway should call (1-65535). Default: <see langword="null"/>, the port of the first address the
    /// web server listens on once the host has started (http preferred); none when there is no web server.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>The instance's tags. Default: none.</summary>
    public IList<string> Tags { get; } = new List<string>();

    /// <summary>
    /// The instance's metadata (Consul allows 64 pairs; keys are letters, digits, <c>-</c> and <c>_</c>, at most 128
    /// characters; values at most 512 characters). Default: none. <see cref="Category"/> adds <c>category</c>.
    /// </summary>
    public IDictionary<string, string> Meta { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The instance's category, published as <c>Meta["category"]</c>, which the gateway reads. Default:
    /// <see langword="null"/>, no category (a <c>category</c> entry in <see cref="Meta"/> is kept then).
    /// </summary>
    public string? Category { get; set; }

    /// <summary>
    /// The TTL of the check: Consul turns it critical when no update arrives within it, so a crashed service stops
    /// receiving traffic by itself. Default: 15 seconds. Between 1 second and 1 hour.
    /// </summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often the check is updated (the health checks run before each update). Default: <see langword="null"/>,
    /// a third of <see cref="Ttl"/>. With the jitter added it must stay below <see cref="Ttl"/>.
    /// Lifecycle changes are published at once, without waiting for the interval.
    /// </summary>
    public TimeSpan? UpdateInterval { get; set; }

    /// <summary>
    /// How much each wait between updates varies, as a fraction of the interval (±), so that many instances do not
    /// update in step. Default: 0.1 (±10 %). Between 0 and 0.5.
    /// </summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>
    /// Consul removes the instance after its check has been critical this long (a crashed service disappears from
    /// the catalog). Default: 5 minutes. Zero disables it; otherwise at least 1 minute (Consul's minimum).
    /// </summary>
    public TimeSpan DeregisterCriticalServiceAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The first wait after a failed call to Consul; it doubles with each further failure (with jitter) up to
    /// <see cref="MaxRetryDelay"/>. Default: 1 second. Positive.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between retries while Consul is unreachable. Default: 30 seconds; at least <see cref="RetryDelay"/>.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The interval actually used: <see cref="UpdateInterval"/>, or a third of <see cref="Ttl"/>.</summary>
    internal TimeSpan EffectiveUpdateInterval => UpdateInterval ?? Ttl / 3;
}
