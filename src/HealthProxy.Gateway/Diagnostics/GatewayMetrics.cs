using System.Diagnostics.Metrics;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>The gateway's instruments (meter <see cref="MeterName"/>); names are dotted, tag names live in <see cref="GatewayTags"/>.</summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "HealthProxy.Gateway";

    private readonly Counter<long> _transitions;
    private readonly Counter<long> _fallbacks;
    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _ejectionsRefused;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _retriesRefused;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _transitions = meter.CreateCounter<long>("healthproxy.instance.transitions", "{transition}", "Instance state changes, by cluster and new state.");
        _fallbacks = meter.CreateCounter<long>("healthproxy.routing.fallbacks", "{request}", "Requests routed to all instances because none was eligible.");
        _probeDuration = meter.CreateHistogram<double>("healthproxy.probe.duration", "s", "Duration of active health probes, by cluster and result.");
        _ejections = meter.CreateCounter<long>("healthproxy.outlier.ejections", "{ejection}", "Destinations ejected by their circuit breaker, by cluster.");
        _ejectionsRefused = meter.CreateCounter<long>("healthproxy.outlier.ejections_refused", "{ejection}", "Breaker trips not turned into ejections because of the cluster's max ejection percent.");
        _retries = meter.CreateCounter<long>("healthproxy.retries", "{retry}", "Requests retried on another destination, by cluster, request kind and reason.");
        _retriesRefused = meter.CreateCounter<long>("healthproxy.retries.budget_exhausted", "{request}", "Retryable failures not retried because the cluster's retry budget was spent.");
    }

    public void StateTransition(string clusterId, HealthState? state) =>
        _transitions.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, state?.ToWireName() ?? "unknown"));

    public void Fallback(string clusterId, RequestKind kind) =>
        _fallbacks.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.RequestKind, kind == RequestKind.Read ? "read" : "write"));

    public void Probe(string clusterId, HealthState result, TimeSpan duration) =>
        _probeDuration.Record(duration.TotalSeconds, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, result.ToWireName()));

    public void Ejection(string clusterId) => _ejections.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));

    public void EjectionRefused(string clusterId) => _ejectionsRefused.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));

    public void Retry(string clusterId, RequestKind kind, string reason) =>
        _retries.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.RequestKind, kind == RequestKind.Read ? "read" : "write"), new(GatewayTags.Reason, reason));

    public void RetryBudgetExhausted(string clusterId) => _retriesRefused.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, clusterId));
}
