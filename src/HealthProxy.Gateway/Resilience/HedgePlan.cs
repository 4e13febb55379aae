using HealthProxy.Gateway.Routing;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One outgoing read's hedge: where a second try goes if the first has no response headers after <see cref="Delay"/>,
/// and the cluster budget it is paid from. Made by <see cref="HedgeTransformProvider"/> for a hedged route's read,
/// carried out by <see cref="HedgingHandler"/>; set as a request feature too, so that
/// <see cref="ResilienceMiddleware"/> does not credit the first try's instance with the hedge's answer.
/// </summary>
internal sealed class HedgePlan(string clusterId, DestinationState alternate, string primaryPrefix, TimeSpan delay, RetryBudget budget)
{
    private int _won;

    public string ClusterId { get; } = clusterId;

    /// <summary>The instance the hedge goes to.</summary>
    public DestinationState Alternate { get; } = alternate;

    public TimeSpan Delay { get; } = delay;

    public RetryBudget Budget { get; } = budget;

    /// <summary>Whether the hedge answered first (its response is the one forwarded).</summary>
    public bool Won => Volatile.Read(ref _won) == 1;

    public void MarkWon() => Volatile.Write(ref _won, 1);

    /// <summary>
    /// The least busy read-eligible instance of <paramref name="routing"/> (fewest requests in flight) that is not
    /// ejected and none of <paramref name="tried"/> nor <paramref name="earlier"/>; null when there is none. Only the
    /// read-eligible set: a hedge is an extra, never a reason to use an instance reads avoid.
    /// </summary>
    public static DestinationState? PickAlternate(ClusterRouting routing, ClusterResilience cluster, DestinationState tried, IReadOnlyList<DestinationState>? earlier)
    {
        var candidates = routing.Reads;
        DestinationState? best = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            if (candidate.DestinationId == tried.DestinationId
                || (earlier is not null && Contains(earlier, candidate))
                || (cluster.TryGet(candidate.DestinationId, out var health) && health.IsEjected))
            {
                continue;
            }

            if (best is null || candidate.ConcurrentRequestCount < best.ConcurrentRequestCount)
            {
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>
    /// The hedge's request: <paramref name="request"/>'s method, version, headers, path and query, addressed to
    /// <see cref="Alternate"/>; null when the request's address does not start with the first try's destination prefix
    /// (a transform rewrote it), so there is no telling where the same request would go on another instance.
    /// </summary>
    public HttpRequestMessage? CloneFor(HttpRequestMessage request)
    {
        if (request.RequestUri is not { IsAbsoluteUri: true } primary
            || Alternate.Model?.Config.Address is not { } alternatePrefix
            || !Uri.TryCreate(primaryPrefix, UriKind.Absolute, out var prefixUri))
        {
            return null;
        }

        var prefix = prefixUri.AbsoluteUri.TrimEnd('/');
        var address = primary.AbsoluteUri;
        if (!address.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(alternatePrefix.TrimEnd('/') + address[prefix.Length..], UriKind.Absolute, out var uri))
        {
            return null;
        }

        var clone = new HttpRequestMessage(request.Method, uri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return clone;
    }

    private static bool Contains(IReadOnlyList<DestinationState> list, DestinationState candidate)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].DestinationId == candidate.DestinationId)
            {
                return true;
            }
        }

        return false;
    }
}
