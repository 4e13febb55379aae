namespace HealthProxy.Gateway.Views;

/// <summary>
/// Who may read the gateway's health endpoints (<c>HealthProxy:Security</c>). All optional.
/// <see cref="DetailedToken"/> and <see cref="AllowedNetworks"/> apply live when the configuration file changes
/// (an invalid edit is logged by key and the running values stay); <see cref="TrustedProxies"/> needs a restart.
/// </summary>
public sealed class HealthSecurityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Security";

    /// <summary>The environment variable read for <see cref="DetailedToken"/> when the key is not set.</summary>
    public const string DetailedTokenEnvironmentVariable = "HEALTHPROXY_DETAILED_TOKEN";

    /// <summary>
    /// The bearer token <c>/health/detailed</c> requires (<c>Authorization: Bearer &lt;token&gt;</c>).
    /// Default: none, and then <c>/health/detailed</c> answers 404 (disabled). Never logged, and never forwarded to a
    /// backend however a request spells its <c>Authorization</c> headers.
    /// </summary>
    public string? DetailedToken { get; set; }

    /// <summary>
    /// Networks (CIDR like <c>10.0.0.0/8</c>, or single addresses) allowed to call the health endpoints
    /// (HTTP and gRPC); others get 403. Default: empty, everyone may.
    /// </summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>
    /// Proxies (addresses or CIDR) whose <c>X-Forwarded-For</c> is believed on the health endpoints.
    /// Default: empty, the header is ignored and the socket's peer is the caller.
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];
}
