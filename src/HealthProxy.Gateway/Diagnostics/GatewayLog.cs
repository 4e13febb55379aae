using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Log lines raised by more than one feature, with their stable event ids.</summary>
internal static partial class GatewayLog
{
    /// <summary>A cascading failure, at Error: the root and the services it took down (names only, no secrets).</summary>
    [LoggerMessage(EventId = GatewayEventIds.CascadingFailure, Level = LogLevel.Error,
        Message = "Cascading failure: {RootCluster} failing affects {Affected} services ({AffectedServices}).")]
    public static partial void CascadingFailure(this ILogger logger, string rootCluster, int affected, string affectedServices);
}
