using System.Diagnostics;
using System.Diagnostics.Metrics;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// The gateway's event-driven instruments (meter <see cref="MeterName"/>); names are dotted with units, tag
/// names live in <see cref="GatewayTags"/>. The observable gauges over current state are in <see cref="HealthGauges"/>.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "HealthProxy.Gateway";

    // Seconds; a proxy hop is milliseconds, a hung backend is its ActivityTimeout (default 100 s).
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 100];

    private static readonly string[] AttemptNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
    private static readonly string[] StatusClasses = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Counter<long> _transitions;
    private readonly Counter<long> _fallbacks;
    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _ejectionsRefused;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _retriesRefused;
    private readonly Counter<long> _hedges;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _cascades;
    private readonly Counter<long> _degradedShed;
    private readonly Counter<long> _cascadeAffected;
    private readonly Counter<long> _failoverSwitches;
    private readonly Counter<long> _grpcResponses;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        _transitions = Meter.CreateCounter<long>("healthproxy.instance.transitions", "{transition}", "Instance state changes, by cluster and new state.");
        _fallbacks = Meter.CreateCounter<long>("healthproxy.routing.fallbacks", "{request}", "Requests routed to all instances because none was eligible.");
        _probeDuration = Meter.CreateHistogram("healthproxy.probe.duration", "s", "Duration of active health probes, by cluster and result.", tags: null, advice);
        _ejections = Meter.CreateCounter<long>("healthproxy.outlier.ejections", "{ejection}", "Destinations ejected by their circuit breaker, by cluster.");
        _ejectionsRefused = Meter.CreateCounter<long>("healthproxy.outlier.ejections_refused", "{ejection}", "Breaker trips not turned into ejections because of the cluster's max ejection percent.");
        _retries = Meter.CreateCounter<long>("healthproxy.retries", "{retry}", "Requests retried on another destination, by cluster, request kind, reason and attempt (2 for the first retry).");
        _retriesRefused = Meter.CreateCounter<long>("healthproxy.retries.budget_exhausted", "{request}", "Retryable failures not retried because the cluster's retry budget was spent, by cluster and reason.");
        _hedges = Meter.CreateCounter<long>("healthproxy.hedges", "{hedge}", "Reads past their route's hedge delay, by cluster and outcome: won (the hedge answered first), lost (the first try did), skipped_budget (no hedge: the retry budget was spent).");
        _requestDuration = Meter.CreateHistogram(
            "healthproxy.request.duration", "s", "Proxied requests, by route, cluster, request kind and outcome (status class, error, canceled).", tags: null, advice);
        _degradedShed = Meter.CreateCounter<long>(
            "healthproxy.routing.degraded_shed", "{request}", "Reads that found every eligible instance a degraded one at the cluster's in-flight cap, sent to the fallback.");
        _cascades = Meter.CreateCounter<long>("healthproxy.cascading_failures", "{event}", "Cascading failures detected, by root cluster.");
        _failoverSwitches = Meter.CreateCounter<long>(
            "healthproxy.failover.switches", "{switch}", "Changes of the failover tier serving a request kind, by cluster, request kind and the tier that serves it now.");
        _grpcResponses = Meter.CreateCounter<long>(
            "healthproxy.grpc.responses", "{response}", "gRPC calls' answers from instances, one per attempt, by cluster, method (from config: route metadata or descriptor set, else other) and gRPC status.");
        _cascadeAffected = Meter.CreateCounter<long>("healthproxy.cascading_failures.affected", "{service}", "Services affected by cascading failures, by root cluster.");
    }

    /// <summary>The gateway's meter, for the observable instruments built beside this class.</summary>
    public Meter Meter { get; }

    public void StateTransition(string clusterId, HealthState? state) =>
        _transitions.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, state?.ToWireName() ?? "unknown"));

    public void DegradedShed(string clusterId) => _degradedShed.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));

    public void Fallback(string clusterId, RequestKind kind) =>
        _fallbacks.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.RequestKind, KindName(kind)));

    public void FailoverSwitch(string clusterId, RequestKind kind, int tier) =>
        _failoverSwitches.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.RequestKind, KindName(kind)), new(GatewayTags.Tier, TierName(tier)));

    /// <summary>The <c>tier</c> tag value: the tier's priority in invariant digits.</summary>
    public static string TierName(int tier) => tier.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Probe(string clusterId, HealthState result, TimeSpan duration) =>
        _probeDuration.Record(duration.TotalSeconds, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, result.ToWireName()));

    public void Ejection(string clusterId) => _ejections.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));

    public void EjectionRefused(string clusterId) => _ejectionsRefused.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));

    /// <summary>A retry: <paramref name="attempt"/> is the attempt it makes, 2 for the first retry.</summary>
    public void Retry(string clusterId, RequestKind kind, string reason, int attempt) =>
        _retries.Add(
            1,
            new(GatewayTags.Cluster, clusterId),
            new(GatewayTags.RequestKind, KindName(kind)),
            new(GatewayTags.Reason, reason),
            new(GatewayTags.Attempt, AttemptNames[Math.Clamp(attempt, 0, AttemptNames.Length - 1)]));

    /// <summary>A read ran past its hedge delay; <paramref name="outcome"/> is <c>won</c>, <c>lost</c> or <c>skipped_budget</c>.</summary>
    public void Hedge(string clusterId, string outcome) =>
        _hedges.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.Outcome, outcome));

    /// <summary>An instance's answer to a gRPC call; <paramref name="grpcStatus"/> -1 when it carried none (a transport error).</summary>
    public void GrpcResponse(string clusterId, string method, int grpcStatus) =>
        _grpcResponses.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.GrpcMethod, method), new(GatewayTags.GrpcStatus, GrpcRouting.GrpcStatus.Name(grpcStatus)));

    public void RetryBudgetExhausted(string clusterId, string reason) =>
        _retriesRefused.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.Reason, reason));

    /// <summary>
    /// One proxied request. On the request path: every tag value is a string the gateway already holds
    /// (ids from config, constant names), and the <see cref="TagList"/> lives on the stack.
    /// </summary>
    public void Request(string routeId, string clusterId, RequestKind kind, string outcome, double seconds)
    {
        if (!_requestDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { GatewayTags.Route, routeId },
            { GatewayTags.Cluster, clusterId },
            { GatewayTags.RequestKind, KindName(kind) },
            { GatewayTags.Outcome, outcome },
        };
        _requestDuration.Record(seconds, in tags);
    }

    /// <summary>
    /// A cascading failure: <paramref name="rootCluster"/> failing took <paramref name="affected"/> other
    /// services down with it. For the views' dependency graph; the views log the event (id 1500) beside it.
    /// </summary>
    public void CascadingFailure(string rootCluster, int affected)
    {
        ArgumentNullException.ThrowIfNull(rootCluster);
        ArgumentOutOfRangeException.ThrowIfNegative(affected);
        var tag = new KeyValuePair<string, object?>(GatewayTags.Cluster, rootCluster);
        _cascades.Add(1, tag);
        _cascadeAffected.Add(affected, tag);
    }

    /// <summary>The outcome tag for a response status code (a constant string, never formatted).</summary>
    public static string StatusClass(int statusCode) =>
        statusCode is >= 100 and < 600 ? StatusClasses[statusCode / 100] : "error";

    /// <summary>The <c>request_kind</c> tag value: <c>read</c> or <c>write</c>.</summary>
    public static string KindName(RequestKind kind) => kind == RequestKind.Read ? "read" : "write";
}
