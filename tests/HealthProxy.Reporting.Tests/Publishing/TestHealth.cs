using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Reporting.Tests.Publishing;

/// <summary>The health a test sets: the service's own and its one non-critical dependency, <c>cache</c>.</summary>
internal sealed class TestHealth
{
    private volatile int _own = (int)HealthStatus.Healthy;
    private volatile int _cache = (int)HealthStatus.Healthy;

    public HealthStatus Own
    {
        get => (HealthStatus)_own;
        set => _own = (int)value;
    }

    public HealthStatus Cache
    {
        get => (HealthStatus)_cache;
        set => _cache = (int)value;
    }

    public void AddTo(IHealthChecksBuilder checks)
    {
        checks.AddCheck("self", () => new HealthCheckResult(Own));
        checks.AddCheck("cache", () => new HealthCheckResult(Cache), tags: [ServiceHealthTags.Dependency]);
    }
}
