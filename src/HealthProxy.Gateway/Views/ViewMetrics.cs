using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// The views' instruments, on the gateway's meter (<see cref="GatewayMetrics.MeterName"/>; the meter
/// factory hands every caller the same meter, so exporters see one).
/// </summary>
internal sealed class ViewMetrics
{
    private readonly Counter<long> _cascades;

    public ViewMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _cascades = meter.CreateCounter<long>(
            "healthproxy.cascading_failures", "{failure}", "Root failures with dependents: a cluster became unhealthy and others depend on it, by root cluster.");
    }

    public void CascadingFailure(string rootClusterId) =>
        _cascades.Add(1, new KeyValuePair<string, object?>(GatewayTags.Cluster, rootClusterId));
}
