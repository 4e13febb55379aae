namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// The wait before a retry: fully jittered exponential backoff (Envoy's and AWS's), a uniform draw from zero up to
/// <c>base x 2^(retry-1)</c>, capped at the maximum, so retries of many requests spread out instead of arriving together.
/// </summary>
internal static class RetryBackoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1 for the first retry), for a uniform
    /// <paramref name="random"/> in [0, 1). Zero when <paramref name="baseDelay"/> is zero.
    /// </summary>
    public static TimeSpan Delay(int retry, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        if (baseDelay <= TimeSpan.Zero || retry < 1)
        {
            return TimeSpan.Zero;
        }

        // 2^(retry-1) stops growing once it passes the cap, so the ceiling never overflows.
        var ceiling = baseDelay.Ticks;
        for (var i = 1; i < retry && ceiling < maxDelay.Ticks; i++)
        {
            ceiling *= 2;
        }

        ceiling = Math.Min(ceiling, maxDelay.Ticks);
        return TimeSpan.FromTicks((long)(ceiling * Math.Clamp(random, 0, 1)));
    }
}
