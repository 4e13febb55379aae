using HealthProxy.Gateway.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Logs, at Error, every task exception nobody observed (a fire-and-forget task that faulted): without
/// it the runtime drops them silently when the task is collected, and a bug hides for good.
/// </summary>
internal sealed partial class UnobservedTaskExceptionLogger(ILogger<UnobservedTaskExceptionLogger> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
        return Task.CompletedTask;
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        LogUnobserved(e.Exception);
        e.SetObserved();
    }

    [LoggerMessage(EventId = GatewayEventIds.UnobservedTaskException, Level = LogLevel.Error, Message = "A task faulted and nobody observed its exception.")]
    private partial void LogUnobserved(Exception exception);
}
