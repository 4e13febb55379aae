namespace HealthProxy.Consul.Discovery;

/// <summary>
/// A token bucket on a <see cref="TimeProvider"/>: up to <c>burst</c> calls at once, then one per
/// <c>interval</c>. Used by one loop at a time, so it takes no lock.
/// </summary>
internal sealed class TokenBucket
{
    private readonly int _burst;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _timeProvider;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(int burst, TimeSpan interval, TimeProvider timeProvider)
    {
        _burst = burst;
        _interval = interval;
        _timeProvider = timeProvider;
        _tokens = burst;
        _lastRefill = timeProvider.GetTimestamp();
    }

    public async ValueTask TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return;
            }

            var missing = (1 - _tokens) * _interval.Ticks;
            await Task.Delay(TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(missing))), _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Refill()
    {
        var now = _timeProvider.GetTimestamp();
        if (_interval <= TimeSpan.Zero)
        {
            _tokens = _burst;
        }
        else
        {
            var elapsed = _timeProvider.GetElapsedTime(_lastRefill, now);
            _tokens = Math.Min(_burst, _tokens + (elapsed.Ticks / (double)_interval.Ticks));
        }

        _lastRefill = now;
    }
}
