namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Stable log event ids, one place for all of them.</summary>
internal static class GatewayEventIds
{
    public const int InstanceStateChanged = 1000;
    public const int InstanceDegraded = 1001;
    public const int InstanceUnhealthy = 1002;
    public const int RoutingFallback = 1100;
    public const int RoutingFallbackEnded = 1101;
    public const int ProbeFailed = 1200;
    public const int ProbeRoundCompleted = 1201;
    public const int ProbeLoopFaulted = 1202;
    public const int DiscoveryWatching = 1400;
    public const int DiscoveryStale = 1401;
    public const int DiscoveryFresh = 1402;
    public const int OutlierEjected = 1300;
    public const int OutlierEjectionRefused = 1301;
    public const int OutlierTrialDue = 1302;
    public const int OutlierReturned = 1303;
    public const int OutlierEndedByProbe = 1304;
    public const int RetryBudgetExhausted = 1310;
    public const int RequestRetried = 1311;
    public const int ForwardingFailed = 1320;
    public const int ClientAbandonedRequest = 1321;
    public const int CascadingFailure = 1500;
    public const int ShutdownDraining = 1600;
    public const int ShutdownDrained = 1601;
    public const int ShutdownDrainCutShort = 1602;
    public const int UnobservedTaskException = 1700;
}
