using System.Globalization;
using HealthProxy.Gateway.Configuration;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// What a cluster's (or a route's) requests are retried on, and how often: read from cluster metadata, and from
/// route metadata on top of its cluster's. Immutable; a configuration change makes a new one.
/// </summary>
/// <remarks>
/// The default is the gateway's one safe retry: <c>gateway-error,reset,connect-failure,unavailable</c>, two attempts in all, no
/// per-try timeout. <see cref="Statuses"/> is the union of the response codes the conditions cover, so that deciding
/// about a response is one array lookup.
/// </remarks>
internal sealed class RetryPolicy : IEquatable<RetryPolicy>
{
    /// <summary>Attempts allowed, the first included.</summary>
    public const int MinAttempts = 1;

    /// <summary>The most attempts a request may make.</summary>
    public const int MaxAttemptsLimit = 10;

    private static readonly (string Name, RetryConditions Condition)[] Names =
    [
        ("gateway-error", RetryConditions.GatewayError),
        ("5xx", RetryConditions.FiveXx),
        ("reset", RetryConditions.Reset),
        ("connect-failure", RetryConditions.ConnectFailure),
        ("refused-stream", RetryConditions.RefusedStream),
        ("retriable-status-codes", RetryConditions.RetriableStatusCodes),
        ("cancelled", RetryConditions.GrpcCancelled),
        ("deadline-exceeded", RetryConditions.GrpcDeadlineExceeded),
        ("internal", RetryConditions.GrpcInternal),
        ("resource-exhausted", RetryConditions.GrpcResourceExhausted),
        ("unavailable", RetryConditions.GrpcUnavailable),
    ];

    private static readonly (RetryConditions Condition, int Code)[] GrpcCodes =
    [
        (RetryConditions.GrpcCancelled, GrpcRouting.GrpcStatus.Cancelled),
        (RetryConditions.GrpcDeadlineExceeded, GrpcRouting.GrpcStatus.DeadlineExceeded),
        (RetryConditions.GrpcInternal, GrpcRouting.GrpcStatus.Internal),
        (RetryConditions.GrpcResourceExhausted, GrpcRouting.GrpcStatus.ResourceExhausted),
        (RetryConditions.GrpcUnavailable, GrpcRouting.GrpcStatus.Unavailable),
    ];

    private static readonly TimeSpan MinPerTryTimeout = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxPerTryTimeout = TimeSpan.FromHours(1);

    private RetryPolicy(RetryConditions conditions, string? retriableStatusCodes, int maxAttempts, TimeSpan? perTryTimeout, bool idempotentWrites)
    {
        Conditions = conditions;
        RetriableStatusCodes = retriableStatusCodes;
        MaxAttempts = maxAttempts;
        PerTryTimeout = perTryTimeout;
        IdempotentWrites = idempotentWrites;
        Statuses = BuildStatuses(conditions, retriableStatusCodes);
        GrpcStatuses = GrpcRouting.GrpcStatusSet.Of([.. GrpcCodes.Where(c => (conditions & c.Condition) != 0).Select(c => c.Code)]);
    }

    /// <summary>The gateway's default: one retry on a gateway error, a reset, a refused connection or a gRPC UNAVAILABLE.</summary>
    public static RetryPolicy Default { get; } = new(
        RetryConditions.GatewayError | RetryConditions.Reset | RetryConditions.ConnectFailure | RetryConditions.GrpcUnavailable, null, 2, null, false);

    /// <summary>The conditions retried, with what <c>5xx</c> implies expanded.</summary>
    public RetryConditions Conditions { get; }

    /// <summary>The codes and ranges of <c>HealthProxy.RetriableStatusCodes</c>, as configured; null when none.</summary>
    public string? RetriableStatusCodes { get; }

    /// <summary>Attempts in all, the first included (1 to 10).</summary>
    public int MaxAttempts { get; }

    /// <summary>The limit on each attempt, so a hung try does not use up the request's whole time; null: none.</summary>
    public TimeSpan? PerTryTimeout { get; }

    /// <summary>Whether the route declared its writes idempotent: they may be sent again like reads (a route key only).</summary>
    public bool IdempotentWrites { get; }

    /// <summary>Every response status the conditions retry.</summary>
    public StatusCodeSet Statuses { get; }

    /// <summary>The gRPC statuses the conditions retry, when a call's response carries one in its headers (trailers-only).</summary>
    public GrpcRouting.GrpcStatusSet GrpcStatuses { get; }

    /// <summary>Whether <paramref name="condition"/> is retried.</summary>
    public bool Retries(RetryConditions condition) => (Conditions & condition) != 0;

    /// <summary>
    /// This policy with the retry keys of <paramref name="metadata"/> on top (cluster metadata over the default,
    /// route metadata over its cluster's); itself when there are none. Each bad value is added to
    /// <paramref name="problems"/> naming its key under <paramref name="keyPrefix"/>, and the value it would
    /// have replaced is kept. <paramref name="route"/> allows the route-only key <c>HealthProxy.IdempotentWrites</c>.
    /// </summary>
    public RetryPolicy With(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, bool route, ICollection<string> problems)
    {
        if (metadata is null || !HasAny(metadata))
        {
            return this;
        }

        var conditions = Conditions;
        if (metadata.TryGetValue(HealthProxyMetadata.RetryOn, out var retryOn))
        {
            if (TryParseConditions(retryOn, out var parsed))
            {
                conditions = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.RetryOn} must be a comma list of {string.Join(", ", Names.Select(n => n.Name))} (got '{retryOn}').");
            }
        }

        var codes = RetriableStatusCodes;
        if (metadata.TryGetValue(HealthProxyMetadata.RetriableStatusCodes, out var codesText))
        {
            if (StatusCodeSet.TryParse(codesText, out var set) && !Enumerable.Range(100, 300).Any(set.Contains))
            {
                codes = codesText;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.RetriableStatusCodes} must list codes or ranges from 400 to 599, e.g. '500,503' or '500-504' (got '{codesText}').");
            }
        }

        var attempts = MaxAttempts;
        if (metadata.TryGetValue(HealthProxyMetadata.MaxAttempts, out var attemptsText))
        {
            if (int.TryParse(attemptsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed is >= MinAttempts and <= MaxAttemptsLimit)
            {
                attempts = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.MaxAttempts} must be a whole number from {MinAttempts} to {MaxAttemptsLimit}, the first attempt included (got '{attemptsText}').");
            }
        }

        var perTry = PerTryTimeout;
        if (metadata.TryGetValue(HealthProxyMetadata.PerTryTimeout, out var perTryText))
        {
            if (TimeSpan.TryParse(perTryText, CultureInfo.InvariantCulture, out var parsed) && parsed >= MinPerTryTimeout && parsed <= MaxPerTryTimeout)
            {
                perTry = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.PerTryTimeout} must be a time span between 00:00:00.001 and 01:00:00 (got '{perTryText}').");
            }
        }

        var idempotent = IdempotentWrites;
        if (metadata.TryGetValue(HealthProxyMetadata.IdempotentWrites, out var idempotentText))
        {
            if (!route)
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.IdempotentWrites} is a route setting; set it on the routes whose writes are idempotent.");
            }
            else if (bool.TryParse(idempotentText, out var parsed))
            {
                idempotent = parsed;
            }
            else
            {
                problems.Add($"{keyPrefix}:{HealthProxyMetadata.IdempotentWrites} must be true or false (got '{idempotentText}').");
            }
        }

        if ((conditions & RetryConditions.RetriableStatusCodes) != 0 && codes is null)
        {
            problems.Add($"{keyPrefix}:{HealthProxyMetadata.RetryOn} lists retriable-status-codes but no {HealthProxyMetadata.RetriableStatusCodes} are set.");
        }

        var policy = new RetryPolicy(conditions, codes, attempts, perTry, idempotent);
        return policy.Equals(this) ? this : policy;
    }

    /// <summary>Reads a comma list of condition names; <c>5xx</c> brings what it implies.</summary>
    public static bool TryParseConditions(string? text, out RetryConditions conditions)
    {
        conditions = RetryConditions.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return false;
        }

        foreach (var part in parts)
        {
            var found = Array.FindIndex(Names, n => string.Equals(n.Name, part, StringComparison.OrdinalIgnoreCase));
            if (found < 0)
            {
                conditions = RetryConditions.None;
                return false;
            }

            conditions |= Names[found].Condition;
        }

        if ((conditions & RetryConditions.FiveXx) != 0)
        {
            conditions |= RetryConditions.GatewayError | RetryConditions.Reset | RetryConditions.ConnectFailure | RetryConditions.RefusedStream;
        }

        return true;
    }

    public bool Equals(RetryPolicy? other) => other is not null
        && Conditions == other.Conditions
        && string.Equals(RetriableStatusCodes, other.RetriableStatusCodes, StringComparison.Ordinal)
        && MaxAttempts == other.MaxAttempts
        && PerTryTimeout == other.PerTryTimeout
        && IdempotentWrites == other.IdempotentWrites;

    public override bool Equals(object? obj) => obj is RetryPolicy other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Conditions, RetriableStatusCodes, MaxAttempts, PerTryTimeout, IdempotentWrites);

    private static bool HasAny(IReadOnlyDictionary<string, string> metadata) =>
        metadata.ContainsKey(HealthProxyMetadata.RetryOn)
        || metadata.ContainsKey(HealthProxyMetadata.RetriableStatusCodes)
        || metadata.ContainsKey(HealthProxyMetadata.MaxAttempts)
        || metadata.ContainsKey(HealthProxyMetadata.PerTryTimeout)
        || metadata.ContainsKey(HealthProxyMetadata.IdempotentWrites);

    private static StatusCodeSet BuildStatuses(RetryConditions conditions, string? retriableStatusCodes)
    {
        var parts = new List<string>(3);
        if ((conditions & RetryConditions.FiveXx) != 0)
        {
            parts.Add("500-599");
        }

        if ((conditions & RetryConditions.GatewayError) != 0)
        {
            parts.Add("502-504");
        }

        if ((conditions & RetryConditions.RetriableStatusCodes) != 0 && retriableStatusCodes is not null)
        {
            parts.Add(retriableStatusCodes);
        }

        return parts.Count > 0 && StatusCodeSet.TryParse(string.Join(',', parts), out var set) ? set : StatusCodeSet.Empty;
    }
}
