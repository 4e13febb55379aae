namespace HealthProxy.Consul.Discovery;

/// <summary>Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries never bunch up and never hit zero.</summary>
/// <param name="baseDelay">The delay after the first failure (before jitter).</param>
/// <param name="maxDelay">The cap on the delay.</param>
/// <param name="random">Draws the jitter in [0, 1); a constant 1 gives a plain doubling without jitter.</param>
public sealed class RetryBackoff(TimeSpan baseDelay, TimeSpan maxDelay, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    /// <summary>The delay before retry number <paramref name="failures"/> (1 = after the first failure).</summary>
    public TimeSpan Delay(int failures)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var ceiling = Math.Min(baseDelay.Ticks * Math.Pow(2, exponent), maxDelay.Ticks);
        return TimeSpan.FromTicks((long)((ceiling / 2) + (ceiling / 2 * _random())));
    }
}
