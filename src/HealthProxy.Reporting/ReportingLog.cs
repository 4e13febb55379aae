using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting;

/// <summary>Every log message of the reporting library, with stable event ids (1000-1299).</summary>
/// <remarks>Exception details go to the log only; they never reach a health response.</remarks>
internal static partial class ReportingLog
{
    [LoggerMessage(EventId = 1000, EventName = "DeepCheckFailed", Level = LogLevel.Warning,
        Message = "Health check {CheckName} failed: {Reason}")]
    public static partial void DeepCheckFailed(ILogger logger, string checkName, string reason);

    [LoggerMessage(EventId = 1001, EventName = "DeepCheckTimedOut", Level = LogLevel.Warning,
        Message = "Health check {CheckName} timed out after {TimeoutMs} ms")]
    public static partial void DeepCheckTimedOut(ILogger logger, string checkName, double timeoutMs);

    [LoggerMessage(EventId = 1002, EventName = "DeepCheckThrew", Level = LogLevel.Warning,
        Message = "Health check {CheckName} failed with an exception")]
    public static partial void DeepCheckThrew(ILogger logger, string checkName, Exception exception);

    [LoggerMessage(EventId = 1100, EventName = "LifecycleChanged", Level = LogLevel.Information,
        Message = "Service lifecycle {Previous} -> {Current}")]
    public static partial void LifecycleChanged(ILogger logger, ServiceLifecycleState previous, ServiceLifecycleState current);

    [LoggerMessage(EventId = 1101, EventName = "DrainStarted", Level = LogLevel.Information,
        Message = "Draining: still serving for {DrainDelayMs} ms before the server stops")]
    public static partial void DrainStarted(ILogger logger, double drainDelayMs);

    [LoggerMessage(EventId = 1102, EventName = "DrainCutShort", Level = LogLevel.Warning,
        Message = "Drain delay cut short by the host's shutdown timeout")]
    public static partial void DrainCutShort(ILogger logger);

    [LoggerMessage(EventId = 1103, EventName = "LifecycleHandlerFailed", Level = LogLevel.Error,
        Message = "A handler of the service lifecycle change to {Current} threw")]
    public static partial void LifecycleHandlerFailed(ILogger logger, ServiceLifecycleState current, Exception exception);

    [LoggerMessage(EventId = 1200, EventName = "ServiceHealthy", Level = LogLevel.Information,
        Message = "Service {ServiceName} is healthy")]
    public static partial void ServiceHealthy(ILogger logger, string serviceName);

    [LoggerMessage(EventId = 1201, EventName = "ServiceDegraded", Level = LogLevel.Warning,
        Message = "Service {ServiceName} is degraded")]
    public static partial void ServiceDegraded(ILogger logger, string serviceName);

    [LoggerMessage(EventId = 1202, EventName = "ServiceUnhealthy", Level = LogLevel.Error,
        Message = "Service {ServiceName} is unhealthy")]
    public static partial void ServiceUnhealthy(ILogger logger, string serviceName);
}
