using HealthProxy.Gateway.Health;
using Microsoft.Extensions.Hosting;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>What the gateway's own startup and readiness endpoints answer from.</summary>
internal sealed class GatewayReadiness(ActiveProbeMonitor monitor, IHostApplicationLifetime lifetime)
{
    private volatile bool _configLoaded;

    /// <summary>Set once YARP has loaded and validated the configuration.</summary>
    public void MarkConfigLoaded() => _configLoaded = true;

    /// <summary>Config loaded and the first round of probes done.</summary>
    public bool Started => _configLoaded && monitor.InitialProbeCompleted;

    /// <summary>Shutting down: stop sending us traffic.</summary>
    public bool Stopping => lifetime.ApplicationStopping.IsCancellationRequested;
}
