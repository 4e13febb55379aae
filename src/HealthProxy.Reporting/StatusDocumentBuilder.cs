using HealthProxy.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Reporting;

/// <summary>Turns a health report into the status document: the rule that combines own and dependency health.</summary>
internal static class StatusDocumentBuilder
{
    /// <summary>
    /// Own health is the worst of the checks not tagged <see cref="ServiceHealthTags.Dependency"/>. A dependency
    /// reports its own state; towards the overall state a failed critical dependency counts as unhealthy and a
    /// failed non-critical one as degraded (database down: unhealthy; cache down, database up: degraded).
    /// </summary>
    public static StatusDocument FromReport(HealthReport report, string service)
    {
        var own = HealthState.Healthy;
        var overall = HealthState.Healthy;
        var dependencies = new Dictionary<string, DependencyStatus>(StringComparer.Ordinal);
        foreach (var (name, entry) in report.Entries)
        {
            var state = ToState(entry.Status);
            if (entry.Tags.Contains(ServiceHealthTags.Dependency, StringComparer.Ordinal))
            {
                var critical = entry.Tags.Contains(ServiceHealthTags.Critical, StringComparer.Ordinal);
                dependencies[name] = new DependencyStatus(state, critical);
                overall = overall.Worst(EffectOnService(state, critical));
            }
            else
            {
                own = own.Worst(state);
            }
        }

        return new StatusDocument
        {
            Status = overall.Worst(own),
            Service = service,
            Own = own,
            Dependencies = dependencies,
        };
    }

    /// <summary>The document of a service that is not serving: starting, or draining (and stopped).</summary>
    public static StatusDocument NotServing(HealthState state, string service) => new() { Status = state, Service = service };

    internal static HealthState EffectOnService(HealthState dependency, bool critical) =>
        dependency == HealthState.Unhealthy && !critical ? HealthState.Degraded : dependency;

    internal static HealthState ToState(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => HealthState.Healthy,
        HealthStatus.Degraded => HealthState.Degraded,
        _ => HealthState.Unhealthy,
    };
}
