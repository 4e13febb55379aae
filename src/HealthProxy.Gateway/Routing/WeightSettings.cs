using System.Globalization;
using HealthProxy.Gateway.Configuration;

namespace HealthProxy.Gateway.Routing;

/// <summary>How a degraded instance shares a cluster's reads.</summary>
public enum DegradedMode
{
    /// <summary>Degraded instances take reads at their base weight times <see cref="WeightSettings.DegradedWeight"/>.</summary>
    Weighted,

    /// <summary>
    /// Envoy's spill-over: the healthy instances take min(100%, healthy share x <see cref="WeightSettings.OverprovisioningFactor"/>)
    /// of the reads and the degraded ones the rest.
    /// </summary>
    SpillOver,
}

/// <summary>Where writes go while no instance is healthy.</summary>
public enum WriteFallbackOrder
{
    /// <summary>To all of the cluster's instances (the reference article's fallback).</summary>
    All,

    /// <summary>To the degraded instances while there are any, then to all.</summary>
    DegradedFirst,
}

/// <summary>
/// A cluster's weighting rules, read from its metadata (see <see cref="HealthProxyMetadata"/>). One parser serves the
/// config check (which names the bad key) and the state store (which gets only values the check accepted).
/// </summary>
public sealed record WeightSettings
{
    /// <summary>The factor for degraded instances when their source states no degraded weight.</summary>
    public const double DefaultDegradedWeight = 0.2;

    /// <summary>Envoy's overprovisioning factor for <see cref="DegradedMode.SpillOver"/>.</summary>
    public const double DefaultOverprovisioningFactor = 1.4;

    /// <summary>Envoy's slow-start defaults.</summary>
    public const double DefaultSlowStartAggression = 1.0;

    /// <inheritdoc cref="DefaultSlowStartAggression"/>
    public const double DefaultSlowStartMinWeight = 0.1;

    /// <summary>How long a higher-priority tier must be eligible before traffic returns to it.</summary>
    public static readonly TimeSpan DefaultFailbackDelay = TimeSpan.FromSeconds(30);

    /// <summary>The highest failover tier a destination may state.</summary>
    public const int MaxPriority = 100;

    /// <summary>The settings of a cluster with no weighting metadata.</summary>
    public static WeightSettings Default { get; } = new();

    /// <summary>How degraded instances share reads.</summary>
    public DegradedMode DegradedMode { get; init; } = DegradedMode.Weighted;

    /// <summary>Base weight x this = a degraded instance's read weight, unless its source states one.</summary>
    public double DegradedWeight { get; init; } = DefaultDegradedWeight;

    /// <summary>The spill-over mode's factor.</summary>
    public double OverprovisioningFactor { get; init; } = DefaultOverprovisioningFactor;

    /// <summary>Requests in flight at which a degraded instance takes no new reads; 0 = no cap.</summary>
    public int DegradedMaxInFlight { get; init; }

    /// <summary>How long an instance that became routable ramps its weight up; zero = no slow start.</summary>
    public TimeSpan SlowStartWindow { get; init; }

    /// <summary>The ramp's curve: 1 is linear, above 1 ramps faster at first.</summary>
    public double SlowStartAggression { get; init; } = DefaultSlowStartAggression;

    /// <summary>The lowest share of its weight a ramping instance gets (Envoy's <c>min_weight_percent</c>, as a fraction).</summary>
    public double SlowStartMinWeight { get; init; } = DefaultSlowStartMinWeight;

    /// <summary>Where writes go while no instance is healthy.</summary>
    public WriteFallbackOrder WriteFallback { get; init; } = WriteFallbackOrder.All;

    /// <summary>How long a higher-priority tier must have been eligible for a kind before that kind returns to it.</summary>
    public TimeSpan FailbackDelay { get; init; } = DefaultFailbackDelay;

    /// <summary>Reads a cluster's settings; a bad value is a problem naming its key, and its default is used.</summary>
    public static WeightSettings Parse(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, List<string>? problems)
    {
        if (metadata is null)
        {
            return Default;
        }

        var window = TimeSpan.FromHours(1);
        return new WeightSettings
        {
            DegradedMode = Value<DegradedMode>(metadata, HealthProxyMetadata.DegradedMode, keyPrefix, problems, TryParseName, "'Weighted' or 'SpillOver'")
                ?? Default.DegradedMode,
            DegradedWeight = Fraction(metadata, HealthProxyMetadata.DegradedWeight, keyPrefix, problems, min: 0, max: 1) ?? Default.DegradedWeight,
            OverprovisioningFactor = Fraction(metadata, HealthProxyMetadata.OverprovisioningFactor, keyPrefix, problems, min: 1, max: 100)
                ?? Default.OverprovisioningFactor,
            DegradedMaxInFlight = Value(
                metadata,
                HealthProxyMetadata.DegradedMaxInFlight,
                keyPrefix,
                problems,
                (string text, out int value) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value),
                "a whole number of requests, 0 for no cap") ?? Default.DegradedMaxInFlight,
            SlowStartWindow = Value(
                metadata,
                HealthProxyMetadata.SlowStartWindow,
                keyPrefix,
                problems,
                (string text, out TimeSpan value) => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero && value <= window,
                "a duration from 00:00:00 to 01:00:00") ?? Default.SlowStartWindow,
            SlowStartAggression = Fraction(metadata, HealthProxyMetadata.SlowStartAggression, keyPrefix, problems, min: 0.01, max: 100) ?? Default.SlowStartAggression,
            SlowStartMinWeight = Fraction(metadata, HealthProxyMetadata.SlowStartMinWeight, keyPrefix, problems, min: 0.01, max: 1) ?? Default.SlowStartMinWeight,
            WriteFallback = Value<WriteFallbackOrder>(metadata, HealthProxyMetadata.WriteFallback, keyPrefix, problems, TryParseName, "'All' or 'DegradedFirst'")
                ?? Default.WriteFallback,
            FailbackDelay = Value(
                metadata,
                HealthProxyMetadata.FailbackDelay,
                keyPrefix,
                problems,
                (string text, out TimeSpan value) => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero && value <= window,
                "a duration from 00:00:00 to 01:00:00") ?? Default.FailbackDelay,
        };
    }

    /// <summary>
    /// Reads a destination's stated weight (<see cref="HealthProxyMetadata.Weight"/> or <see cref="HealthProxyMetadata.DegradedWeight"/>):
    /// a number from 0 to 10,000, or null when absent or invalid (with a problem naming the key).
    /// </summary>
    public static double? DestinationWeight(IReadOnlyDictionary<string, string>? metadata, string key, string keyPrefix, List<string>? problems) =>
        metadata is null ? null : Fraction(metadata, key, keyPrefix, problems, min: 0, max: 10_000);

    /// <summary>
    /// Reads a destination's failover tier (<see cref="HealthProxyMetadata.Priority"/>): a whole number from 0 to
    /// <see cref="MaxPriority"/>, 0 when absent or invalid (with a problem naming the key).
    /// </summary>
    public static int DestinationPriority(IReadOnlyDictionary<string, string>? metadata, string keyPrefix, List<string>? problems) =>
        metadata is null
            ? 0
            : Value(
                metadata,
                HealthProxyMetadata.Priority,
                keyPrefix,
                problems,
                (string text, out int value) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= MaxPriority,
                $"a whole number from 0 to {MaxPriority}") ?? 0;

    /// <summary>Envoy's slow-start factor: max(minimum, (max(t, 1 s) / window)^(1 / aggression)), 1 once the window has passed.</summary>
    public double RampFactor(TimeSpan sinceRoutable)
    {
        if (SlowStartWindow <= TimeSpan.Zero || sinceRoutable >= SlowStartWindow)
        {
            return 1;
        }

        var seconds = Math.Max(sinceRoutable.TotalSeconds, 1);
        var timeFactor = Math.Min(1, seconds / SlowStartWindow.TotalSeconds);
        var factor = SlowStartAggression == 1 ? timeFactor : Math.Pow(timeFactor, 1 / SlowStartAggression);
        return Math.Max(SlowStartMinWeight, factor);
    }

    private static string? Text(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static double? Fraction(IReadOnlyDictionary<string, string> metadata, string key, string keyPrefix, List<string>? problems, double min, double max) =>
        Value(
            metadata,
            key,
            keyPrefix,
            problems,
            (string text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= min && value <= max,
            $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The value of <paramref name="key"/>, null when absent; a value that does not parse is a problem naming the key and what it must be.</summary>
    private static T? Value<T>(IReadOnlyDictionary<string, string> metadata, string key, string keyPrefix, List<string>? problems, TryParser<T> tryParse, string expected)
        where T : struct
    {
        if (Text(metadata, key) is not { } text)
        {
            return null;
        }

        if (tryParse(text, out var value))
        {
            return value;
        }

        problems?.Add($"{keyPrefix}:{key} must be {expected} (got '{text}').");
        return null;
    }

    /// <summary>An enum member by name, any case; undefined values are refused.</summary>
    private static bool TryParseName<TEnum>(string text, out TEnum value)
        where TEnum : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value);

    private delegate bool TryParser<T>(string text, out T value);
}
