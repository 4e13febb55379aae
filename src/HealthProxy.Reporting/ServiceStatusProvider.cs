using HealthProxy.Health;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting;

/// <summary>Combines the lifecycle with a fresh health report. Thread-safe; one instance per host.</summary>
internal sealed class ServiceStatusProvider : IServiceStatusProvider
{
    private readonly HealthCheckService _checks;
    private readonly IServiceLifecycle _lifecycle;
    private readonly ServiceHealthOptions _options;
    private readonly ILogger<ServiceStatusProvider> _logger;

    // The last overall state logged, so a change is logged once at the level the new state deserves.
    private int _lastLogged = -1;

    public ServiceStatusProvider(
        HealthCheckService checks,
        IServiceLifecycle lifecycle,
        IOptions<ServiceHealthOptions> options,
        ILogger<ServiceStatusProvider> logger)
    {
        _checks = checks;
        _lifecycle = lifecycle;
        _options = options.Value;
        _logger = logger;
    }

    private string ServiceName => _options.ServiceName!;

    public async Task<StatusDocument> GetStatusAsync(CancellationToken cancellationToken)
    {
        if (NotServing() is { } early)
        {
            return early;
        }

        var report = _options.Predicate is { } predicate
            ? await _checks.CheckHealthAsync(predicate, cancellationToken).ConfigureAwait(false)
            : await _checks.CheckHealthAsync(cancellationToken).ConfigureAwait(false);

        // Draining may have begun while the checks ran; draining wins.
        var document = NotServing() ?? StatusDocumentBuilder.FromReport(report, ServiceName);
        LogIfChanged(document.Status);
        return document;
    }

    private StatusDocument? NotServing() => _lifecycle.State switch
    {
        ServiceLifecycleState.Starting => StatusDocumentBuilder.NotServing(HealthState.Starting, ServiceName),
        ServiceLifecycleState.Draining or ServiceLifecycleState.Stopped => StatusDocumentBuilder.NotServing(HealthState.Draining, ServiceName),
        _ => null,
    };

    private void LogIfChanged(HealthState state)
    {
        if (Interlocked.Exchange(ref _lastLogged, (int)state) == (int)state)
        {
            return;
        }

        switch (state)
        {
            case HealthState.Healthy:
                ReportingLog.ServiceHealthy(_logger, ServiceName);
                break;
            case HealthState.Degraded:
                ReportingLog.ServiceDegraded(_logger, ServiceName);
                break;
            case HealthState.Unhealthy:
                ReportingLog.ServiceUnhealthy(_logger, ServiceName);
                break;
        }
    }
}
