using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Health;
using Microsoft.Extensions.Hosting;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>What the gateway's own startup and readiness endpoints answer from.</summary>
internal sealed class GatewayReadiness(ActiveProbeMonitor monitor, ConsulDiscovery discovery, IHostApplicationLifetime lifetime)
{
    private volatile bool _configLoaded;

    /// <summary>Set once YARP has loaded and validated the configuration.</summary>
    public void MarkConfigLoaded() => _configLoaded = true;

    /// <summary>Config loaded, the first round of probes done, and Consul's first answers in (or their budget spent).</summary>
    public bool Started => _configLoaded && monitor.InitialProbeCompleted && discovery.InitialAnswersReceived;

    /// <summary>Serving from a stale registry snapshot: still ready, but degraded.</summary>
    public bool Degraded => discovery.AnyStale;

    /// <summary>Shutting down: stop sending us traffic.</summary>
    public bool Stopping => lifetime.ApplicationStopping.IsCancellationRequested;
}
