namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's run of failures in a row, for <see cref="OutlierDetectionOptions.ConsecutiveFailures"/>:
/// Polly's breaker only knows ratios, so in consecutive mode it is told "failure" only once the run is long
/// enough (and then trips on the first such outcome, with a minimal failure ratio).
/// </summary>
internal sealed class FailureStreak(int threshold)
{
    private int _count;

    /// <summary>Records one outcome; true when the run of failures has reached the threshold.</summary>
    public bool Record(AttemptOutcome outcome)
    {
        if (outcome == AttemptOutcome.Success)
        {
            if (Volatile.Read(ref _count) != 0)
            {
                Volatile.Write(ref _count, 0);
            }

            return false;
        }

        return Interlocked.Increment(ref _count) >= threshold;
    }

    /// <summary>Starts counting again (after an ejection was refused).</summary>
    public void Reset() => Volatile.Write(ref _count, 0);
}
