namespace HealthProxy.Consul;

/// <summary>The stable event IDs of this library's log messages (range 3000–3099).</summary>
internal static class ConsulEventIds
{
    public const int RequestFailed = 3001;
    public const int RequestSucceeded = 3002;
    public const int WatchStarted = 3010;
    public const int WatchSnapshotPublished = 3011;
    public const int WatchFailed = 3012;
    public const int WatchRecovered = 3013;
    public const int WatchIndexWentBackwards = 3014;
    public const int WatchStopped = 3015;
    public const int WatchUnchanged = 3016;
    public const int WatchCallFaulted = 3017;
    public const int WatchLoopFaulted = 3018;
}
