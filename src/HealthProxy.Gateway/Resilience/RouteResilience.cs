using System.Globalization;
using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One route's own resilience settings, read from its YARP <c>Metadata</c>: whether its requests feed passive
/// health and may be retried, its retry policy keys over its cluster's, and its own activity timeout (long-poll
/// and streaming routes).
/// </summary>
/// <remarks>
/// The route's activity timeout replaces its cluster's <c>HttpRequest:ActivityTimeout</c> for its requests: the
/// request is forwarded with a copy of the cluster's model whose request config carries the route's timeout,
/// built once per route and cluster model. YARP's own <c>RouteConfig.Timeout</c> bounds the whole request through
/// ASP.NET Core's request timeouts and leaves the cluster's activity timeout in force, so a silent long poll would
/// still end at the cluster's.
/// </remarks>
internal sealed class RouteResilience
{
    /// <summary>Route metadata: <c>false</c> keeps the route's outcomes out of passive health (they never eject an instance). Default <c>true</c>.</summary>
    public const string PassiveHealthKey = "HealthProxy.PassiveHealth";

    /// <summary>Route metadata: <c>false</c> turns retries off for the route. Default <c>true</c>.</summary>
    public const string RetriesKey = "HealthProxy.Retries";

    /// <summary>Route metadata: the route's activity timeout (a TimeSpan, e.g. <c>00:10:00</c>) in place of its cluster's.</summary>
    public const string ActivityTimeoutKey = "HealthProxy.ActivityTimeout";

    private static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    private readonly IReadOnlyDictionary<string, string>? _retryOverrides;
    private readonly string _keyPrefix;
    private readonly TimeoutClusterModel? _timeoutModel;
    private volatile MergedPolicy? _policy;

    private static readonly TimeSpan MinHedgeDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxHedgeDelay = TimeSpan.FromMinutes(1);

    private RouteResilience(bool passiveHealth, bool retries, TimeSpan? activityTimeout, TimeSpan? hedgeDelay, IReadOnlyDictionary<string, string>? retryOverrides, string keyPrefix)
    {
        PassiveHealth = passiveHealth;
        Retries = retries;
        ActivityTimeout = activityTimeout;
        _timeoutModel = activityTimeout is { } timeout ? new TimeoutClusterModel(timeout) : null;
        HedgeDelay = hedgeDelay;
        _retryOverrides = retryOverrides;
        _keyPrefix = keyPrefix;
    }

    public bool PassiveHealth { get; }

    public bool Retries { get; }

    public TimeSpan? ActivityTimeout { get; }

    /// <summary>The route's hedge delay (<see cref="HealthProxyMetadata.HedgeDelay"/>); null when its reads are not hedged.</summary>
    public TimeSpan? HedgeDelay { get; }

    /// <summary>Reads a route's metadata; each bad value is added to <paramref name="problems"/> naming its key under <paramref name="keyPrefix"/>.</summary>
    public static RouteResilience Parse(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, ICollection<string> problems)
    {
        var passiveHealth = ReadBool(metadata, PassiveHealthKey, keyPrefix, problems);
        var retries = ReadBool(metadata, RetriesKey, keyPrefix, problems);
        TimeSpan? timeout = null;
        if (metadata is not null && metadata.TryGetValue(ActivityTimeoutKey, out var text))
        {
            if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed) && parsed >= MinTimeout && parsed <= MaxTimeout)
            {
                timeout = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{ActivityTimeoutKey} must be a time span between 00:00:01 and 1.00:00:00 (got '{text}').");
            }
        }

        TimeSpan? hedgeDelay = null;
        if (metadata is not null && metadata.TryGetValue(HealthProxyMetadata.HedgeDelay, out var hedgeText))
        {
            if (TimeSpan.TryParse(hedgeText, CultureInfo.InvariantCulture, out var parsed) && parsed >= MinHedgeDelay && parsed <= MaxHedgeDelay)
            {
                hedgeDelay = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.HedgeDelay} must be a time span between 00:00:00.001 and 00:01:00 (got '{hedgeText}').");
            }
        }

        // The route's retry keys apply over its cluster's policy (PolicyFor), and are validated there (RouteResilienceConfigFilter).
        return new RouteResilience(passiveHealth, retries, timeout, hedgeDelay, HasRetryKeys(metadata) ? metadata : null, keyPrefix);
    }

    /// <summary>
    /// The retry policy for this route's requests to a cluster with <paramref name="settings"/>: the cluster's, or
    /// with this route's keys on top, built once per cluster settings object (no allocation per request).
    /// </summary>
    public RetryPolicy PolicyFor(ClusterSettings settings)
    {
        if (_retryOverrides is null)
        {
            return settings.Retry;
        }

        var merged = _policy;
        if (merged is not null && ReferenceEquals(merged.Source, settings))
        {
            return merged.Policy;
        }

        // Validated when the configuration loaded (RouteResilienceConfigFilter).
        merged = new MergedPolicy(settings, settings.Retry.With(_retryOverrides, _keyPrefix, route: true, []));
        _policy = merged;
        return merged.Policy;
    }

    /// <summary>The cluster model to forward with: <paramref name="cluster"/> itself, or its copy carrying this route's activity timeout.</summary>
    public ClusterModel ClusterFor(ClusterModel cluster) => _timeoutModel?.For(cluster) ?? cluster;

    internal static RouteResilience For(RouteConfig route) => Parse(route.Metadata, $"ReverseProxy:Routes:{route.RouteId}:Metadata", []);

    private static bool ReadBool(IReadOnlyDictionary<string, string>? metadata, string key, string keyPrefix, ICollection<string> problems)
    {
        if (metadata is null || !metadata.TryGetValue(key, out var text))
        {
            return true;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        problems.Add($"{keyPrefix}:{key} must be true or false (got '{text}').");
        return true;
    }

    private static bool HasRetryKeys(IReadOnlyDictionary<string, string>? metadata) => metadata is not null && metadata.Keys.Any(k =>
        k is HealthProxyMetadata.RetryOn or HealthProxyMetadata.RetriableStatusCodes or HealthProxyMetadata.MaxAttempts
            or HealthProxyMetadata.PerTryTimeout or HealthProxyMetadata.IdempotentWrites);

    private sealed record MergedPolicy(ClusterSettings Source, RetryPolicy Policy);
}
