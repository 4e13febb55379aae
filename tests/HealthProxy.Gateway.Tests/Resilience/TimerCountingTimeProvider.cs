using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Resilience;

/// <summary>A <see cref="FakeTimeProvider"/> that counts the timers created through it and those not yet disposed.</summary>
internal sealed class TimerCountingTimeProvider : TimeProvider
{
    private readonly FakeTimeProvider _inner = new();
    private int _created;
    private int _alive;

    public int TimersCreated => Volatile.Read(ref _created);

    public int TimersAlive => Volatile.Read(ref _alive);

    public override long TimestampFrequency => _inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

    public void Advance(TimeSpan delta) => _inner.Advance(delta);

    public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

    public override long GetTimestamp() => _inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _created);
        Interlocked.Increment(ref _alive);
        return new CountedTimer(this, _inner.CreateTimer(callback, state, dueTime, period));
    }

    private sealed class CountedTimer(TimerCountingTimeProvider owner, ITimer inner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._alive);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
