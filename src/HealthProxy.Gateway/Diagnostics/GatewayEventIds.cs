namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Stable log event ids, one place for all of them.</summary>
internal static class GatewayEventIds
{
    public const int InstanceStateChanged = 1000;
    public const int InstanceDegraded = 1001;
    public const int InstanceUnhealthy = 1002;
    public const int InstanceUnjudged = 1003;
    public const int InstanceLeft = 1004;
    public const int StateHandlerFailed = 1005;
    public const int RoutingFallback = 1100;
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
    public const int DiscoveryReleased = 1410;
    public const int DiscoveryReaderFaulted = 1411;
    public const int DiscoveryReleaseFaulted = 1412;
    public const int DiscoveryHandlerFailed = 1413;
    public const int ConfigFileRefused = 1800;
    public const int ConfigFileLoaded = 1801;
    public const int SettingApplied = 1802;
    public const int SettingInvalid = 1803;
    public const int SettingNeedsRestart = 1804;
    public const int ConfigReloadFailed = 1805;
    public const int SettingsApplyFailed = 1806;
    public const int StartupConfigFiles = 2100;
    public const int StartupListening = 2101;
    public const int PerTryTimeout = 2200;
    public const int ReadHedged = 2250;
    public const int FailoverActivated = 2400;
    public const int FailoverReturned = 2401;
}
