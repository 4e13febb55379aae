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

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _transitions = meter.CreateCounter<long>("healthproxy.instance.transitions", "{transition}", "Instance state changes, by cluster and new state.");
        _fallbacks = meter.CreateCounter<long>("healthproxy.routing.fallbacks", "{request}", "Requests routed to all instances because none was eligible.");
        _probeDuration = meter.CreateHistogram<double>("healthproxy.probe.duration", "s", "Duration of active health probes, by cluster and result.");
    }

    public void StateTransition(string clusterId, HealthState? state) =>
        _transitions.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, state?.ToWireName() ?? "unknown"));

    public void Fallback(string clusterId, RequestKind kind) =>
        _fallbacks.Add(1, new(GatewayTags.Cluster, clusterId), new(GatewayTags.RequestKind, kind == RequestKind.Read ? "read" : "write"));

    public void Probe(string clusterId, HealthState result, TimeSpan duration) =>
        _probeDuration.Record(duration.TotalSeconds, new(GatewayTags.Cluster, clusterId), new(GatewayTags.State, result.ToWireName()));
}
