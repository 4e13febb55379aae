using System.Diagnostics;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// What only the gateway knows, written on a proxied request's server span: the request kind and cluster, whether
/// the request fell back to all instances, and per attempt the instance tried, its state and breaker, and the
/// retry's attempt and reason (as the span's tags and one <c>healthproxy.retry</c> event per retry).
/// </summary>
/// <remarks>
/// With tracing off (<see cref="Enabled"/> false: no <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) every call is one field read.
/// With it on, only a span that is sampled (<see cref="Activity.Recorded"/>) gets tags; the rest pay a property read.
/// </remarks>
internal sealed class GatewayTracing(bool enabled, InstanceHealthStore store)
{
    public const string RequestKind = "healthproxy.request_kind";
    public const string Cluster = "healthproxy.cluster";
    public const string Fallback = "healthproxy.fallback";
    public const string Destination = "healthproxy.destination";
    public const string InstanceState = "healthproxy.instance.state";
    public const string InstanceSource = "healthproxy.instance.source";
    public const string Ejected = "healthproxy.breaker.open";
    public const string Attempt = "healthproxy.retry.attempt";
    public const string RetryReason = "healthproxy.retry.reason";
    public const string RetryEvent = "healthproxy.retry";
    public const string HedgeOutcome = "healthproxy.hedge.outcome";
    public const string HedgeEvent = "healthproxy.hedge";

    /// <summary>Whether tracing is configured at all.</summary>
    public bool Enabled { get; } = enabled;

    /// <summary>The request was classified and its eligible set chosen.</summary>
    public void Routed(string clusterId, RequestKind kind, bool fallback)
    {
        if (Enabled && Activity.Current is { Recorded: true } span)
        {
            span.SetTag(Cluster, clusterId);
            span.SetTag(RequestKind, GatewayMetrics.KindName(kind));
            span.SetTag(Fallback, fallback);
        }
    }

    /// <summary>An attempt goes to <paramref name="destinationId"/>; <paramref name="reason"/> is the retry's, null for the first attempt.</summary>
    public void Attempting(string clusterId, string destinationId, int attempt, bool ejected, string? reason)
    {
        if (!Enabled || Activity.Current is not { Recorded: true } span)
        {
            return;
        }

        var health = store.Get(clusterId, destinationId);
        var state = health?.State?.ToWireName() ?? "unknown";
        span.SetTag(Destination, destinationId);
        span.SetTag(InstanceState, state);
        span.SetTag(InstanceSource, health?.Source?.ToString());
        span.SetTag(Ejected, ejected);
        span.SetTag(Attempt, attempt);
        if (reason is not null)
        {
            span.SetTag(RetryReason, reason);
            span.AddEvent(new ActivityEvent(RetryEvent, tags: new ActivityTagsCollection
            {
                [Attempt] = attempt,
                [RetryReason] = reason,
                [Destination] = destinationId,
                [InstanceState] = state,
            }));
        }
    }

    /// <summary>A read was hedged on <paramref name="destinationId"/>; <paramref name="outcome"/> says which try answered first.</summary>
    public void Hedged(string destinationId, string outcome)
    {
        if (Enabled && Activity.Current is { Recorded: true } span)
        {
            span.SetTag(HedgeOutcome, outcome);
            span.AddEvent(new ActivityEvent(HedgeEvent, tags: new ActivityTagsCollection
            {
                [Destination] = destinationId,
                [HedgeOutcome] = outcome,
            }));
        }
    }
}
