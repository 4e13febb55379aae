namespace HealthProxy.Reliability.Tests;

/// <summary>
/// How long the reliability scenarios run. CI runs the short version; <c>HEALTHPROXY_RELIABILITY=long</c>
/// (what <c>bench/reliability.sh</c> sets) runs the long one: the full durations, a 30-minute soak.
/// </summary>
public static class ReliabilityMode
{
    public static bool IsLong { get; } =
        string.Equals(Environment.GetEnvironmentVariable("HEALTHPROXY_RELIABILITY"), "long", StringComparison.OrdinalIgnoreCase);

    public static string Name => IsLong ? "long" : "short";

    /// <summary><paramref name="longValue"/> in the long version, <paramref name="shortValue"/> in CI.</summary>
    public static TimeSpan Pick(TimeSpan shortValue, TimeSpan longValue) => IsLong ? longValue : shortValue;

    /// <inheritdoc cref="Pick(TimeSpan, TimeSpan)"/>
    public static int Pick(int shortValue, int longValue) => IsLong ? longValue : shortValue;
}
