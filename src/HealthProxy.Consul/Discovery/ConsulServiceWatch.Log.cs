using Microsoft.Extensions.Logging;

namespace HealthProxy.Consul.Discovery;

public sealed partial class ConsulServiceWatch
{
    private static partial class Log
    {
        [LoggerMessage(EventId = ConsulEventIds.WatchStarted, Level = LogLevel.Information, Message = "Watching Consul service {Service} with blocking queries (wait {Wait})")]
        public static partial void Started(ILogger logger, string service, TimeSpan wait);

        [LoggerMessage(EventId = ConsulEventIds.WatchSnapshotPublished, Level = LogLevel.Debug, Message = "Consul service {Service} at index {Index}: {Count} instances")]
        public static partial void SnapshotPublished(ILogger logger, string service, ulong index, int count);

        [LoggerMessage(EventId = ConsulEventIds.WatchUnchanged, Level = LogLevel.Trace, Message = "Consul service {Service} unchanged at index {Index}")]
        public static partial void Unchanged(ILogger logger, string service, ulong index);

        [LoggerMessage(EventId = ConsulEventIds.WatchFailed, Level = LogLevel.Warning, Message = "Watching Consul service {Service} failed ({Kind}, {Failures} in a row); keeping the last snapshot, retrying in {RetryIn}")]
        public static partial void Failed(ILogger logger, string service, ConsulErrorKind kind, int failures, TimeSpan retryIn, Exception exception);

        [LoggerMessage(EventId = ConsulEventIds.WatchRecovered, Level = LogLevel.Information, Message = "Consul answers again for service {Service} after {Failures} failures")]
        public static partial void Recovered(ILogger logger, string service, int failures);

        [LoggerMessage(EventId = ConsulEventIds.WatchIndexWentBackwards, Level = LogLevel.Warning, Message = "Consul index for service {Service} went backwards ({Previous} -> {Answered}); resetting to 0")]
        public static partial void IndexWentBackwards(ILogger logger, string service, ulong previous, ulong answered);

        [LoggerMessage(EventId = ConsulEventIds.WatchCallFaulted, Level = LogLevel.Error, Message = "Watching Consul service {Service} failed unexpectedly ({Failures} in a row); keeping the last snapshot, retrying in {RetryIn}")]
        public static partial void CallFaulted(ILogger logger, string service, int failures, TimeSpan retryIn, Exception exception);

        [LoggerMessage(EventId = ConsulEventIds.WatchLoopFaulted, Level = LogLevel.Error, Message = "The watch loop of Consul service {Service} faulted; keeping the last snapshot, restarting in {RetryIn}")]
        public static partial void LoopFaulted(ILogger logger, string service, TimeSpan retryIn, Exception exception);

        [LoggerMessage(EventId = ConsulEventIds.WatchStopped, Level = LogLevel.Information, Message = "Stopped watching Consul service {Service}")]
        public static partial void Stopped(ILogger logger, string service);
    }
}
