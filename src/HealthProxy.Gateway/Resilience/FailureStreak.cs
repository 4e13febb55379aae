namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's run of failures in a row, for <see cref="OutlierDetectionOptions.ConsecutiveFailures"/>.
/// Polly's breaker only knows ratios, so in consecutive mode the run is counted here and Polly is told of it
/// only at its end (see <see cref="OutlierDetector.ReportAsync"/>).
/// </summary>
internal sealed class FailureStreak(int threshold)
{
    private int _count;

    /// <summary>Failures in a row that eject the destination.</summary>
    public int Threshold => threshold;

    /// <summary>Counts one more failure in a row; returns the run's length so far.</summary>
    public int Fail() => Interlocked.Increment(ref _count);

    /// <summary>Ends the run: a success, a closed breaker (a passed trial, a refused ejection, a probe that saw the destination back).</summary>
    public void End()
    {
        if (Volatile.Read(ref _count) != 0)
        {
            Volatile.Write(ref _count, 0);
        }
    }
}
