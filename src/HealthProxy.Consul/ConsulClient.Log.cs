using System.Net;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Consul;

public sealed partial class ConsulClient
{
    private static partial class Log
    {
        [LoggerMessage(EventId = ConsulEventIds.RequestFailed, Level = LogLevel.Debug, Message = "Consul {Method} {Path} failed: {Kind} (HTTP {StatusCode})")]
        public static partial void RequestFailed(ILogger logger, string method, string path, ConsulErrorKind kind, HttpStatusCode? statusCode, Exception? exception);

        [LoggerMessage(EventId = ConsulEventIds.RequestSucceeded, Level = LogLevel.Trace, Message = "Consul {Method} {Path} answered {StatusCode} with {Bytes} bytes")]
        public static partial void RequestSucceeded(ILogger logger, string method, string path, HttpStatusCode statusCode, int bytes);
    }
}
