using HealthProxy.Consul;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting;

/// <summary>Every log message of the reporting library, with stable event ids (1000-1399; publishing to Consul 1300-1399).</summary>
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

    [LoggerMessage(EventId = 1300, EventName = "ConsulRegistered", Level = LogLevel.Information,
        Message = "Registered {ServiceId} ({ServiceName}) in Consul with TTL check {CheckId}")]
    public static partial void ConsulRegistered(ILogger logger, string serviceId, string serviceName, string checkId);

    [LoggerMessage(EventId = 1301, EventName = "ConsulCheckChanged", Level = LogLevel.Information,
        Message = "Consul check {CheckId} is now {Status}")]
    public static partial void ConsulCheckChanged(ILogger logger, string checkId, ConsulCheckStatus status);

    [LoggerMessage(EventId = 1302, EventName = "ConsulMaintenanceChanged", Level = LogLevel.Information,
        Message = "Consul maintenance mode of {ServiceId}: {Enabled}")]
    public static partial void ConsulMaintenanceChanged(ILogger logger, string serviceId, bool enabled);

    [LoggerMessage(EventId = 1303, EventName = "ConsulPublishFailed", Level = LogLevel.Warning,
        Message = "Publishing to Consul failed ({Kind}, {Failures} in a row): {Reason}; retrying in {DelayMs} ms, the service keeps serving")]
    public static partial void ConsulPublishFailed(ILogger logger, ConsulErrorKind kind, int failures, string reason, long delayMs);

    [LoggerMessage(EventId = 1304, EventName = "ConsulPublishRecovered", Level = LogLevel.Information,
        Message = "Publishing to Consul works again after {Failures} failures")]
    public static partial void ConsulPublishRecovered(ILogger logger, int failures);

    [LoggerMessage(EventId = 1305, EventName = "ConsulServiceForgotten", Level = LogLevel.Warning,
        Message = "Consul no longer knows {ServiceId}; registering it again")]
    public static partial void ConsulServiceForgotten(ILogger logger, string serviceId);

    [LoggerMessage(EventId = 1306, EventName = "ConsulDeregistered", Level = LogLevel.Information,
        Message = "Deregistered {ServiceId} from Consul")]
    public static partial void ConsulDeregistered(ILogger logger, string serviceId);

    [LoggerMessage(EventId = 1307, EventName = "ConsulDeregisterFailed", Level = LogLevel.Warning,
        Message = "Could not deregister {ServiceId} from Consul ({Reason}); its TTL check expires and Consul removes it later")]
    public static partial void ConsulDeregisterFailed(ILogger logger, string serviceId, string reason);

    [LoggerMessage(EventId = 1308, EventName = "StatusForPublishingFailed", Level = LogLevel.Error,
        Message = "Reading the service status to publish threw; publishing unhealthy")]
    public static partial void StatusForPublishingFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1309, EventName = "ConsulNoPort", Level = LogLevel.Warning,
        Message = "No port configured for {ServiceName} and none found on the web server; registering without a port")]
    public static partial void ConsulNoPort(ILogger logger, string serviceName);

    [LoggerMessage(EventId = 1310, EventName = "ConsulPublishThrew", Level = LogLevel.Error,
        Message = "Publishing to Consul threw unexpectedly ({Failures} in a row); retrying in {DelayMs} ms, the service keeps serving")]
    public static partial void ConsulPublishThrew(ILogger logger, int failures, long delayMs, Exception exception);
}
