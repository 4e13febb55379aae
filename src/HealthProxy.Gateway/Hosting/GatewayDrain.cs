using HealthProxy.Gateway.Endpoints;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// The drain phase of shutdown: readiness says <c>draining</c> while the gateway keeps serving for
/// <see cref="ShutdownOptions.DrainDelay"/>; only then does the web server stop accepting.
/// </summary>
/// <remarks>
/// The host runs every <see cref="IHostedLifecycleService.StoppingAsync"/> before any
/// <see cref="IHostedService.StopAsync"/>, and Kestrel stops listening in its <c>StopAsync</c>, so waiting here keeps
/// the listener open. SIGTERM fires <c>ApplicationStopping</c> before the host stops, a direct
/// <c>IHost.StopAsync</c> fires it after <see cref="StoppingAsync"/>: readiness turns on whichever comes first.
/// The wait counts against <c>HostOptions.ShutdownTimeout</c>, which is why that is drain delay + timeout.
/// </remarks>
internal sealed partial class GatewayDrain(
    GatewayReadiness readiness,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider,
    IOptions<ShutdownOptions> options,
    ILogger<GatewayDrain> logger) : IHostedLifecycleService, IDisposable
{
    private CancellationTokenRegistration _stopping;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static state => ((GatewayReadiness)state!).BeginDraining(), readiness);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.BeginDraining();
        var delay = options.Value.DrainDelay;
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        LogDraining(logger, delay.TotalMilliseconds, options.Value.Timeout.TotalMilliseconds);
        try
        {
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            LogDrained(logger);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogDrainCutShort(logger);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(EventId = Diagnostics.GatewayEventIds.ShutdownDraining, Level = LogLevel.Information,
        Message = "Shutting down: readiness answers 503 draining; still serving for {DrainDelayMs} ms, then in-flight requests get up to {TimeoutMs} ms")]
    private static partial void LogDraining(ILogger logger, double drainDelayMs, double timeoutMs);

    [LoggerMessage(EventId = Diagnostics.GatewayEventIds.ShutdownDrained, Level = LogLevel.Information,
        Message = "Drain delay over: the listener closes and in-flight requests finish")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(EventId = Diagnostics.GatewayEventIds.ShutdownDrainCutShort, Level = LogLevel.Warning,
        Message = "Drain delay cut short: the host's shutdown timeout ran out or a second stop forced it")]
    private static partial void LogDrainCutShort(ILogger logger);
}
