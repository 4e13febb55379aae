using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Health;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>What the gateway's own startup and readiness endpoints answer from.</summary>
internal sealed class GatewayReadiness(ActiveProbeMonitor monitor, ConsulDiscovery discovery, ConfigFileStatus configFiles) : IDisposable
{
    private readonly CancellationTokenSource _draining = new();
    private volatile bool _configLoaded;

    /// <summary>Set once YARP has loaded and validated the configuration.</summary>
    public void MarkConfigLoaded() => _configLoaded = true;

    /// <summary>Config loaded, the first round of probes done, and Consul's first answers in (or their budget spent).</summary>
    public bool Started => _configLoaded && monitor.InitialProbeCompleted && discovery.InitialAnswersReceived;

    /// <summary>Serving from a stale registry snapshot or a last good configuration file: still ready, but degraded.</summary>
    public bool Degraded => discovery.AnyStale || ConfigStale;

    /// <summary>
    /// A configuration file's newest version was refused and the last good one serves. Readiness stays 200 (a bad
    /// edit must not take every pod out of service) and says so in its body; the log names the file and why.
    /// </summary>
    public bool ConfigStale => configFiles.Stale;

    /// <summary>Shutting down: stop sending us traffic. Set at the start of the drain delay, while requests are still served.</summary>
    public bool Stopping => _draining.IsCancellationRequested;

    /// <summary>Cancelled when <see cref="Stopping"/> becomes true, for those who push readiness (gRPC Watch).</summary>
    public CancellationToken StoppingToken => _draining.Token;

    /// <summary>Shutdown has begun (<c>ApplicationStopping</c> or the host's stopping phase, whichever is first). Idempotent.</summary>
    public void BeginDraining()
    {
        try
        {
            _draining.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed with the container: the process is past draining.
        }
    }

    public void Dispose() => _draining.Dispose();
}
