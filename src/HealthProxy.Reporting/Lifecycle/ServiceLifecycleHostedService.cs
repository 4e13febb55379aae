using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Lifecycle;

/// <summary>
/// Drives the lifecycle from the host: Draining when <c>ApplicationStopping</c> fires, then the drain delay
/// while the server keeps serving, then Stopped.
/// </summary>
/// <remarks>
/// The host runs every <see cref="IHostedLifecycleService.StoppingAsync"/> before any
/// <see cref="IHostedService.StopAsync"/>, and the web server stops in its <c>StopAsync</c>: awaiting the delay
/// in <see cref="StoppingAsync"/> therefore keeps requests flowing during the delay. Shutdown either starts with
/// <c>StopApplication</c> (SIGTERM: <c>ApplicationStopping</c> fires first) or with <c>IHost.StopAsync</c>;
/// moving to Draining is idempotent, so both orders give the same result.
/// </remarks>
internal sealed class ServiceLifecycleHostedService : IHostedLifecycleService, IDisposable
{
    private readonly ServiceLifecycle _lifecycle;
    private readonly IHostApplicationLifetime _hostLifetime;
    private readonly TimeProvider _time;
    private readonly ServiceLifecycleOptions _options;
    private readonly ILogger<ServiceLifecycleHostedService> _logger;
    private CancellationTokenRegistration _stopping;

    public ServiceLifecycleHostedService(
        ServiceLifecycle lifecycle,
        IHostApplicationLifetime hostLifetime,
        TimeProvider time,
        IOptions<ServiceLifecycleOptions> options,
        ILogger<ServiceLifecycleHostedService> logger)
    {
        _lifecycle = lifecycle;
        _hostLifetime = hostLifetime;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _stopping = _hostLifetime.ApplicationStopping.Register(static state => ((ServiceLifecycle)state!).BeginDraining(), _lifecycle);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_options.ReadyWhenStarted)
        {
            _lifecycle.MarkReady();
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (_lifecycle.State == ServiceLifecycleState.Stopped)
        {
            return; // Stopped twice: drained already.
        }

        _lifecycle.BeginDraining();
        if (_options.DrainDelay > TimeSpan.Zero)
        {
            ReportingLog.DrainStarted(_logger, _options.DrainDelay.TotalMilliseconds);
            try
            {
                await Task.Delay(_options.DrainDelay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                ReportingLog.DrainCutShort(_logger);
            }
        }

        _lifecycle.MarkStopped();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();
}
