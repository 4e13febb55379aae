namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Metric tag names, one place for all of them. Values are bounded: ids from config, state names.</summary>
internal static class GatewayTags
{
    public const string Cluster = "cluster";
    public const string State = "state";
    public const string RequestKind = "request_kind";
    public const string Reason = "reason";
}
