using System.Diagnostics;

namespace HealthProxy.Bench;

/// <summary>The one measuring loop of the single-thread benches: warm up, then time and count the bytes of N calls.</summary>
internal static class PerCall
{
    /// <summary>Runs <paramref name="call"/> <paramref name="warmup"/> times (JIT and tiering out of the way), then <paramref name="iterations"/> times measured.</summary>
    public static (double Nanoseconds, double Bytes) Measure(Action call, int iterations, int warmup)
    {
        for (var i = 0; i < warmup; i++)
        {
            call();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            call();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return (elapsed.TotalNanoseconds / iterations, (double)allocated / iterations);
    }
}
