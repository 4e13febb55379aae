using System.Globalization;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// What the gateway's probes accept in a cluster's <c>HealthCheck:Active:Policy</c>: YARP's built-in
/// <c>ConsecutiveFailures</c>, which is also what an unset key means. As in YARP, the cluster metadata
/// <c>ConsecutiveFailuresHealthPolicy.Threshold</c> sets how many failed probes in a row take an instance
/// down (default <c>HealthProxy:Probes:UnhealthyThreshold</c>); one good probe (<c>HealthyThreshold</c>)
/// brings it back. Any other policy name is rejected, naming the key.
/// </summary>
internal static class ActiveProbePolicy
{
    /// <summary>The one policy name accepted (compared ignoring case, as YARP does).</summary>
    public static readonly string ConsecutiveFailures = HealthCheckConstants.ActivePolicy.ConsecutiveFailures;

    /// <summary>YARP's cluster metadata key for the policy's threshold.</summary>
    public const string ThresholdMetadata = "ConsecutiveFailuresHealthPolicy.Threshold";

    /// <summary>The largest threshold accepted, as for <c>HealthProxy:Probes:UnhealthyThreshold</c>.</summary>
    public const int MaxThreshold = 100;

    /// <summary>The cluster's own threshold, or null when it sets none (validation rejects a bad one first).</summary>
    public static int? Threshold(ClusterConfig cluster) =>
        cluster.Metadata?.TryGetValue(ThresholdMetadata, out var text) == true && TryParseThreshold(text, out var threshold) ? threshold : null;

    /// <summary>Every problem with the cluster's policy settings, each naming its key.</summary>
    public static IEnumerable<string> Problems(ClusterConfig cluster, string prefix)
    {
        if (cluster.HealthCheck?.Active?.Policy is { Length: > 0 } policy && !string.Equals(policy, ConsecutiveFailures, StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{prefix}:HealthCheck:Active:Policy must be '{ConsecutiveFailures}' or unset (got '{policy}'); the gateway's probes support no other policy.";
        }

        if (cluster.Metadata?.TryGetValue(ThresholdMetadata, out var text) == true && !TryParseThreshold(text, out _))
        {
            yield return $"{prefix}:Metadata:{ThresholdMetadata} must be a whole number from 1 to {MaxThreshold} (got '{text}').";
        }
    }

    private static bool TryParseThreshold(string? text, out int threshold) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out threshold) && threshold is >= 1 and <= MaxThreshold;
}
