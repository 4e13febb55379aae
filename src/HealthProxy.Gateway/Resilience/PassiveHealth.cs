using System.Globalization;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One destination's passive health: its counters (failures in a row, the failure-ratio window), its ejection
/// state and its ejection timer, together. Created when the destination appears in its cluster and released
/// (timer disposed) when YARP drops it.
/// </summary>
/// <remarks>
/// <para>
/// States: <c>Closed</c> (counting) -> <c>Ejected</c> (the store holds a <c>Breaker</c> Unhealthy opinion, the
/// timer runs) -> <c>Trial</c> (opinion withdrawn; the next outcome decides: a success closes, a failure ejects
/// again for longer) -> <c>Closed</c>. The n-th ejection in a row lasts n x BreakDuration, up to MaxBreakDuration;
/// a probe that saw the instance down and then back ends an ejection early. A trip the cluster's ejection cap
/// forbids leaves the destination serving, counting again from nothing.
/// </para>
/// <para>
/// Both detectors are owned here plainly rather than by Polly's circuit breaker: a run of n failures is not a
/// ratio (after 20,000 successes in the window, five failures are a ratio of 1/4,000), so Polly could only judge
/// it with invented parameters; and the ratio, which Polly does judge, would put Polly's per-execution lock on
/// every request (see <see cref="FailureRatioWindow"/>).
/// </para>
/// <para>
/// Threading: the request path reads the state and counts without a lock; every transition takes this object's
/// lock, which also orders this destination's reports to the store (an ejection's Unhealthy before its end's
/// withdrawal): they are queued under it and handed to the store after it is released
/// (<see cref="OutlierDetector.Deliver"/>). Lock order: this object, then the cluster's <see cref="ClusterResilience.Sync"/>.
/// </para>
/// </remarks>
internal sealed class PassiveHealth
{
    private const int Closed = 0;
    private const int Ejected = 1;
    private const int Trial = 2;
    private const int Released = 3;

    private readonly ClusterResilience _cluster;
    private readonly Lock _sync = new();
    private volatile int _state;
    private int _consecutive;
    private int _ejectionsInARow;
    private ITimer? _timer;
    private volatile FailureRatioWindow? _window;

    public PassiveHealth(ClusterResilience cluster, string destinationId)
    {
        _cluster = cluster;
        DestinationId = destinationId;
        _window = FailureRatioWindow.For(cluster.Settings.Options, cluster.Detector.TimeProvider);
    }

    public string DestinationId { get; }

    /// <summary>Whether the destination is ejected now (its ejection timer runs).</summary>
    public bool IsEjected => _state == Ejected;

    /// <summary>
    /// Counts the outcome of one attempt at this destination: with no lock and no allocation, unless the outcome
    /// trips a detector or ends a trial.
    /// </summary>
    public void Record(AttemptOutcome outcome)
    {
        var state = _state;
        if (outcome == AttemptOutcome.ClientCaused)
        {
            return;
        }

        if (state != Closed)
        {
            if (state == Trial)
            {
                EndTrial(outcome);
            }

            // Ejected: a request that reached it anyway (no other instance to go to) is no evidence either way.
            return;
        }

        var options = _cluster.Settings.Options;
        if (!options.Enabled)
        {
            return;
        }

        if (outcome == AttemptOutcome.Success)
        {
            if (Volatile.Read(ref _consecutive) != 0)
            {
                Volatile.Write(ref _consecutive, 0);
            }
        }
        else if (options.ConsecutiveFailures > 0 && Interlocked.Increment(ref _consecutive) >= options.ConsecutiveFailures)
        {
            Eject(string.Create(CultureInfo.InvariantCulture, $"{options.ConsecutiveFailures} failures in a row"));
            return;
        }

        if (_window is { } window && window.Record(outcome))
        {
            Eject(string.Create(CultureInfo.InvariantCulture, $"at least {options.FailureRatio:P0} of its requests failed over {options.SamplingDuration}"));
        }
    }

    /// <summary>The instance's probe saw it down and then back: an ejection ends now, and counting starts afresh.</summary>
    public void ProbeRecovered()
    {
        lock (_sync)
        {
            if (_state != Ejected)
            {
                return;
            }

            _state = Closed;
            _ejectionsInARow = 0;
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ResetCounters_NeedsLock();
            _cluster.ReleaseEjection();
            _cluster.Detector.Withdraw(_cluster.ClusterId, DestinationId);
        }

        _cluster.Detector.Deliver();
        _cluster.Detector.EndedByProbe(_cluster.ClusterId, DestinationId);
    }

    /// <summary>The cluster's settings changed: counting restarts under them; an ejection in progress runs its course.</summary>
    public void Reconfigure()
    {
        lock (_sync)
        {
            if (_state != Released)
            {
                ResetCounters_NeedsLock();
            }
        }
    }

    /// <summary>The destination went away: the timer is disposed and an ejection's opinion withdrawn.</summary>
    public void Release()
    {
        lock (_sync)
        {
            var was = _state;
            _state = Released;
            _timer?.Dispose();
            _timer = null;
            _window = null;
            if (was == Ejected)
            {
                _cluster.ReleaseEjection();

                // The store has dropped the instance already; this clears what it keeps for one it does not know.
                _cluster.Detector.Withdraw(_cluster.ClusterId, DestinationId);
            }
        }
    }

    private void Eject(string reason)
    {
        var detector = _cluster.Detector;
        int ejected;
        bool allowed;
        var length = TimeSpan.Zero;
        lock (_sync)
        {
            if (_state is not (Closed or Trial))
            {
                return;
            }

            allowed = _cluster.TryReserveEjection(out ejected);
            if (allowed)
            {
                _state = Ejected;
                _ejectionsInARow++;
                length = _cluster.Settings.Options.EjectionLength(_ejectionsInARow);
                _timer ??= detector.TimeProvider.CreateTimer(static state => ((PassiveHealth)state!).EjectionElapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timer.Change(length, Timeout.InfiniteTimeSpan);
                detector.Eject(_cluster.ClusterId, DestinationId);
            }
            else
            {
                // Overruled by the cap: the destination keeps serving and counts again from nothing.
                _state = Closed;
                ResetCounters_NeedsLock();
            }
        }

        detector.Deliver();
        if (allowed)
        {
            detector.Ejected(_cluster.ClusterId, DestinationId, reason, length);
        }
        else
        {
            detector.EjectionRefused(_cluster, DestinationId, reason, ejected);
        }
    }

    private void EjectionElapsed()
    {
        lock (_sync)
        {
            if (_state != Ejected)
            {
                return;
            }

            _state = Trial;
            ResetCounters_NeedsLock();
            _cluster.ReleaseEjection();
            _cluster.Detector.Withdraw(_cluster.ClusterId, DestinationId);
        }

        _cluster.Detector.Deliver();
        _cluster.Detector.TrialDue(_cluster.ClusterId, DestinationId);
    }

    private void EndTrial(AttemptOutcome outcome)
    {
        if (outcome == AttemptOutcome.Failure)
        {
            Eject("its trial request after an ejection failed");
            return;
        }

        lock (_sync)
        {
            if (_state != Trial)
            {
                return;
            }

            _state = Closed;
            _ejectionsInARow = 0;
        }

        _cluster.Detector.Returned(_cluster.ClusterId, DestinationId);
    }

    private void ResetCounters_NeedsLock()
    {
        Volatile.Write(ref _consecutive, 0);
        _window = FailureRatioWindow.For(_cluster.Settings.Options, _cluster.Detector.TimeProvider);
    }
}
