namespace HealthProxy.Reporting.Publishing;

/// <summary>When the next update or retry happens: the interval with jitter, or exponential backoff with jitter.</summary>
internal sealed class PublishingSchedule
{
    private readonly ConsulPublishingOptions _options;
    private readonly Func<double> _random;

    /// <param name="options">The intervals.</param>
    /// <param name="random">Uniform in [0, 1); <see langword="null"/> = <see cref="Random.Shared"/>.</param>
    public PublishingSchedule(ConsulPublishingOptions options, Func<double>? random = null)
    {
        _options = options;
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>The wait before the next regular update: the interval ± <see cref="ConsulPublishingOptions.Jitter"/>.</summary>
    public TimeSpan NextUpdate()
    {
        var interval = _options.EffectiveUpdateInterval;
        var factor = 1 + (_options.Jitter * ((2 * _random()) - 1));
        return TimeSpan.FromTicks((long)(interval.Ticks * factor));
    }

    /// <summary>
    /// The wait after <paramref name="failures"/> failures in a row (1 = the first): "equal jitter", half of
    /// <c>min(RetryDelay * 2^(failures-1), MaxRetryDelay)</c> fixed and half random, so retries never bunch up.
    /// </summary>
    public TimeSpan NextRetry(int failures)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var ceiling = Math.Min(_options.RetryDelay.Ticks * Math.Pow(2, exponent), _options.MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)((ceiling / 2) + (ceiling / 2 * _random())));
    }
}
