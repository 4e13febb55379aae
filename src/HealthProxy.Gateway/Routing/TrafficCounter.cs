using HealthProxy.Health;

namespace HealthProxy.Gateway.Routing;

/// <summary>
/// One destination's requests over the last minute: a fixed ring of per-second buckets counting the reads, the writes,
/// and those of either that routing sent by the fallback.
/// </summary>
/// <remarks>
/// Each cell is one <see cref="long"/> holding the second it counts (high bits) and its count (low
/// <see cref="CountBits"/> bits), so starting a new second and counting in it is one compare-and-swap: nothing is
/// locked or allocated, and a cell is never zeroed apart from being claimed. A cell stamped with a second outside the
/// window counts nothing.
/// </remarks>
internal sealed class TrafficCounter
{
    /// <summary>The window, in one-second buckets.</summary>
    public const int Seconds = 60;

    private const int Lanes = 3;
    private const int ReadLane = 0;
    private const int WriteLane = 1;
    private const int FallbackLane = 2;
    private const int CountBits = 24;
    private const long CountMask = (1L << CountBits) - 1;

    private readonly long[] _cells = new long[Seconds * Lanes];

    /// <summary>Counts one request of <paramref name="kind"/> in <paramref name="second"/> (Unix seconds).</summary>
    public void Record(long second, RequestKind kind, bool fallback)
    {
        Increment(second, kind == RequestKind.Read ? ReadLane : WriteLane);
        if (fallback)
        {
            Increment(second, FallbackLane);
        }
    }

    /// <summary>The requests counted in the <see cref="Seconds"/> seconds up to and including <paramref name="second"/>.</summary>
    public TrafficWindow Read(long second)
    {
        long reads = 0, writes = 0, fallbacks = 0;
        for (var bucket = 0; bucket < Seconds; bucket++)
        {
            reads += Count(bucket, ReadLane, second);
            writes += Count(bucket, WriteLane, second);
            fallbacks += Count(bucket, FallbackLane, second);
        }

        return new TrafficWindow(reads, writes, fallbacks);
    }

    private long Count(int bucket, int lane, long now)
    {
        var cell = Volatile.Read(ref _cells[(bucket * Lanes) + lane]);
        var stamp = cell >> CountBits;
        return stamp <= now && stamp > now - Seconds ? cell & CountMask : 0;
    }

    private void Increment(long second, int lane)
    {
        ref var cell = ref _cells[((int)(second % Seconds) * Lanes) + lane];
        while (true)
        {
            var old = Volatile.Read(ref cell);
            var stamp = old >> CountBits;
            long next;
            if (stamp == second)
            {
                if ((old & CountMask) == CountMask)
                {
                    return; // saturated: 16 million requests a second to one instance
                }

                next = old + 1;
            }
            else if (stamp > second)
            {
                return; // a caller that read the clock a minute ago: its bucket already counts a newer second
            }
            else
            {
                next = (second << CountBits) | 1;
            }

            if (Interlocked.CompareExchange(ref cell, next, old) == old)
            {
                return;
            }
        }
    }
}

/// <summary>One destination's requests over the last minute.</summary>
/// <param name="Reads">Read requests load balancing sent it.</param>
/// <param name="Writes">Write requests load balancing sent it.</param>
/// <param name="Fallbacks">Of those, the requests that reached it by the fallback (no instance was eligible for their kind).</param>
internal readonly record struct TrafficWindow(long Reads, long Writes, long Fallbacks);
