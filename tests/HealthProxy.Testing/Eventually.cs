using Xunit;
using System.Diagnostics;

namespace HealthProxy.Testing;

/// <summary>Waits for a condition on real servers by polling it against a deadline; never a bare sleep.</summary>
public static class Eventually
{
    /// <summary>The deadline used when a test gives none: generous, since CI machines are small and shared.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="because"/> at the deadline.</summary>
    public static async Task HoldsAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        await HoldsAsync(() => Task.FromResult(condition()), because, timeout);
    }

    /// <summary>Polls an asynchronous <paramref name="condition"/> until it holds; fails with <paramref name="because"/> at the deadline.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? DefaultTimeout).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                Assert.Fail($"Timed out waiting until {because}.");
            }

            await Task.Delay(PollInterval);
        }
    }
}
