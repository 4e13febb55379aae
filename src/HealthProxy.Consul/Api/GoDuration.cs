using System.Globalization;

namespace HealthProxy.Consul.Api;

/// <summary>Go's duration strings as Consul reads them (<c>"90s"</c>, <c>"1500ms"</c>).</summary>
internal static class GoDuration
{
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Durations sent to Consul must not be negative.");
        }

        if (value.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            return ((long)value.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        }

        if (value.Ticks % TimeSpan.TicksPerMillisecond == 0)
        {
            return ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        return (value.Ticks / 10).ToString(CultureInfo.InvariantCulture) + "us";
    }
}
