namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Where the Prometheus scrape endpoint is served (section <see cref="SectionName"/>).</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Metrics";

    /// <summary>Whether <see cref="Path"/> is served at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The scrape path. Default <c>/metrics</c>.</summary>
    public string Path { get; set; } = "/metrics";

    /// <summary>
    /// A separate management port. Default none: the scrape path is served on the main port. When set, the
    /// gateway also listens on it (beside the main addresses, however the host names them), serves the scrape
    /// path only there, and answers 404 to anything else on it. Needs a restart.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>The address the management port binds to. Default <c>*</c> (every interface, as in a pod).</summary>
    public string Host { get; set; } = "*";

    /// <summary>
    /// Whether .NET's <c>System.Net.Http</c> meter is exported too: the gateway's calls to its destinations
    /// (<c>http.client.request.duration</c>, active requests, open connections, time in the connection queue),
    /// without destination addresses. Default false: it records about seven measurements on every proxied
    /// request, a few microseconds of CPU each, and ASP.NET Core's <c>http.server.request.duration</c> already
    /// times proxied requests by route, cluster and request kind.
    /// </summary>
    public bool HttpClientMeter { get; set; }

    /// <summary>
    /// Whether the gateway also records its own request histogram, <c>healthproxy.request.duration</c> (route,
    /// cluster, request kind, outcome), beside <c>http.server.request.duration</c>, which carries the same tags.
    /// Default false; kept for dashboards and rules written against the old name.
    /// </summary>
    public bool LegacyRequestDuration { get; set; }
}
