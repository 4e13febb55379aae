using System.Globalization;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// When a destination's passive health ejects it from routing. Defaults are bound from
/// <c>HealthProxy:OutlierDetection</c>; a cluster overrides any of them in its YARP <c>Metadata</c> as
/// <c>HealthProxy.OutlierDetection.&lt;Property&gt;</c> (as YARP's own passive policies read theirs).
/// </summary>
/// <remarks>
/// Two detectors run side by side, as Envoy's <c>consecutive_5xx</c> and <c>failure_percentage</c>: a run of
/// <see cref="ConsecutiveFailures"/> failures in a row (however long the run takes), and a
/// <see cref="FailureRatio"/> of failures over the last <see cref="SamplingDuration"/> once it holds
/// <see cref="MinimumThroughput"/> requests. Either one ejects; 0 turns one off.
/// </remarks>
public sealed record OutlierDetectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:OutlierDetection";

    /// <summary>The prefix of the per-cluster metadata keys.</summary>
    public const string MetadataPrefix = "HealthProxy.OutlierDetection.";

    /// <summary>Whether forwarded requests feed a passive health object per destination. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Failures in a row that eject a destination; 0 turns this detector off. Default 5 (Envoy's consecutive_5xx).</summary>
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary>
    /// The share of failures over <see cref="SamplingDuration"/> that ejects a destination (0 &lt; ratio &lt;= 1);
    /// 0 turns this detector off. Default 0.5: an instance failing every other request is ejected.
    /// </summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Requests the window must hold before <see cref="FailureRatio"/> is judged. Default 20.</summary>
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>
    /// The sliding window <see cref="FailureRatio"/> is judged over. Default 5 s: an instance that starts failing half
    /// its requests after a healthy stretch reaches the ratio once its healthy outcomes have slid out, within the window.
    /// </summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the first ejection lasts; the n-th in a row lasts n times this. Default 30 s (Envoy's base_ejection_time).</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The cap on a growing ejection. Default 300 s (Envoy's max_ejection_time).</summary>
    public TimeSpan MaxBreakDuration { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>The most of a cluster's destinations that may be ejected at once, in percent. Default 50.</summary>
    public int MaxEjectionPercent { get; set; } = 50;

    /// <summary>Response status codes that count as failures: codes and ranges, comma separated. Default <c>500-599</c>.</summary>
    public string FailureStatusCodes { get; set; } = "500-599";

    /// <summary>
    /// The gRPC statuses (in a call's headers or trailers) that count as the instance's failures, comma-separated names
    /// or numbers, from those a server reports about itself: UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
    /// INTERNAL, UNAVAILABLE, DATA_LOSS. Default <c>UNAVAILABLE</c>: the others can be provoked by a client (a
    /// malformed message is INTERNAL, a tight deadline DEADLINE_EXCEEDED, a per-client quota RESOURCE_EXHAUSTED, a
    /// handler's exception on bad input UNKNOWN), and a client must never get a healthy instance ejected.
    /// </summary>
    public string GrpcFailureCodes { get; set; } = "UNAVAILABLE";

    /// <summary>The n-th ejection in a row lasts n breaks, up to <see cref="MaxBreakDuration"/>.</summary>
    public TimeSpan EjectionLength(int ejectionsInARow)
    {
        var multiple = BreakDuration * Math.Max(1, ejectionsInARow);
        return multiple < MaxBreakDuration ? multiple : MaxBreakDuration;
    }

    /// <summary>A copy with the cluster's metadata overrides applied; bad values are added to <paramref name="problems"/>, naming <paramref name="keyPrefix"/>.</summary>
    public OutlierDetectionOptions WithOverrides(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, ICollection<string> problems)
    {
        var result = this with { };
        if (metadata is null)
        {
            return result;
        }

        foreach (var (key, value) in metadata)
        {
            if (!key.StartsWith(MetadataPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = key[MetadataPrefix.Length..];
            var ok = name switch
            {
                nameof(Enabled) => TryParse<bool>(value, bool.TryParse, v => result.Enabled = v),
                nameof(ConsecutiveFailures) => TryParse<int>(value, TryParseInt, v => result.ConsecutiveFailures = v),
                nameof(FailureRatio) => TryParse<double>(value, TryParseDouble, v => result.FailureRatio = v),
                nameof(MinimumThroughput) => TryParse<int>(value, TryParseInt, v => result.MinimumThroughput = v),
                nameof(SamplingDuration) => TryParse<TimeSpan>(value, TryParseSpan, v => result.SamplingDuration = v),
                nameof(BreakDuration) => TryParse<TimeSpan>(value, TryParseSpan, v => result.BreakDuration = v),
                nameof(MaxBreakDuration) => TryParse<TimeSpan>(value, TryParseSpan, v => result.MaxBreakDuration = v),
                nameof(MaxEjectionPercent) => TryParse<int>(value, TryParseInt, v => result.MaxEjectionPercent = v),
                nameof(FailureStatusCodes) => TryParse<string>(value, TryParseString, v => result.FailureStatusCodes = v),
                nameof(GrpcFailureCodes) => TryParse<string>(value, TryParseString, v => result.GrpcFailureCodes = v),
                _ => (bool?)null,
            };
            if (ok is null)
            {
                problems.Add($"{keyPrefix}:{key} is not a known setting (known: {string.Join(", ", KnownNames)}).");
            }
            else if (ok == false)
            {
                problems.Add($"{keyPrefix}:{key} cannot be read (got '{value}').");
            }
        }

        return result;
    }

    /// <summary>Every problem with these options, each naming its key under <paramref name="keyPrefix"/> (e.g. <c>HealthProxy:OutlierDetection:</c>).</summary>
    public IEnumerable<string> Validate(string keyPrefix)
    {
        if (ConsecutiveFailures != 0 && ConsecutiveFailures is < 2 or > 1000)
        {
            yield return $"{keyPrefix}{nameof(ConsecutiveFailures)} must be 0 (off) or between 2 and 1000 (got {ConsecutiveFailures}).";
        }

        if (!(FailureRatio >= 0 && FailureRatio <= 1))
        {
            yield return $"{keyPrefix}{nameof(FailureRatio)} must be 0 (off) or above 0 and at most 1 (got {FailureRatio}).";
        }

        if (MinimumThroughput is < 2 or > 100_000)
        {
            yield return $"{keyPrefix}{nameof(MinimumThroughput)} must be between 2 and 100000 (got {MinimumThroughput}).";
        }

        foreach (var (name, span) in new[] { (nameof(SamplingDuration), SamplingDuration), (nameof(BreakDuration), BreakDuration), (nameof(MaxBreakDuration), MaxBreakDuration) })
        {
            if (span < TimeSpan.FromMilliseconds(500) || span > TimeSpan.FromDays(1))
            {
                yield return $"{keyPrefix}{name} must be between 00:00:00.5 and 1.00:00:00 (got {span}).";
            }
        }

        if (MaxBreakDuration < BreakDuration)
        {
            yield return $"{keyPrefix}{nameof(MaxBreakDuration)} must not be shorter than {nameof(BreakDuration)} (got {MaxBreakDuration} < {BreakDuration}).";
        }

        if (MaxEjectionPercent is < 0 or > 100)
        {
            yield return $"{keyPrefix}{nameof(MaxEjectionPercent)} must be between 0 and 100 (got {MaxEjectionPercent}).";
        }

        if (!StatusCodeSet.TryParse(FailureStatusCodes, out _))
        {
            yield return $"{keyPrefix}{nameof(FailureStatusCodes)} must list codes or ranges between 100 and 599, e.g. '500-599' or '502,503,504' (got '{FailureStatusCodes}').";
        }

        if (!GrpcRouting.GrpcStatusSet.TryParseInstanceCodes(GrpcFailureCodes, out _, out var grpcProblem))
        {
            yield return $"{keyPrefix}{nameof(GrpcFailureCodes)} {grpcProblem}: list gRPC statuses a server reports about itself, from {string.Join(", ", GrpcRouting.GrpcStatus.InstanceCodes.Select(GrpcRouting.GrpcStatus.Name))} (got '{GrpcFailureCodes}').";
        }
    }

    private static readonly string[] KnownNames =
    [
        nameof(Enabled), nameof(ConsecutiveFailures), nameof(FailureRatio), nameof(MinimumThroughput), nameof(SamplingDuration),
        nameof(BreakDuration), nameof(MaxBreakDuration), nameof(MaxEjectionPercent), nameof(FailureStatusCodes),
        nameof(GrpcFailureCodes),
    ];

    private delegate bool Parser<T>(string value, out T result);

    private static bool TryParse<T>(string value, Parser<T> parse, Action<T> assign)
    {
        if (!parse(value, out var parsed))
        {
            return false;
        }

        assign(parsed);
        return true;
    }

    private static bool TryParseString(string value, out string result)
    {
        result = value;
        return true;
    }

    private static bool TryParseInt(string value, out int result) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out result);

    private static bool TryParseDouble(string value, out double result) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result);

    private static bool TryParseSpan(string value, out TimeSpan result) => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out result);
}
