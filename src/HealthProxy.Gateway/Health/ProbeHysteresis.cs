using HealthProxy.Health;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// Damps probe results so one lost probe does not flap an instance. Not thread-safe: each
/// destination's prober owns one and calls it from its single probe loop.
/// </summary>
/// <remarks>
/// The first result is taken as it is (at startup a dead instance must not get traffic). After that,
/// <see cref="HealthState.Unhealthy"/> needs <c>unhealthyThreshold</c> results in a row to take an
/// instance down, and an unhealthy instance needs <c>healthyThreshold</c> good results in a row to come
/// back. The other states are the instance's own statements (degraded, starting, draining) and apply at once,
/// and so does an unhealthy the instance states itself (its status document or health check says so): the
/// damping is for probes that get no answer or a bare error code, not for what an instance says about itself.
/// </remarks>
internal sealed class ProbeHysteresis(int unhealthyThreshold, int healthyThreshold)
{
    private int _failures;
    private int _successes;

    /// <summary>Consecutive failed probes that take an established instance to unhealthy; a cluster's policy may set it per probe.</summary>
    public int UnhealthyThreshold { get; set; } = unhealthyThreshold;

    /// <summary>The state after hysteresis; null before the first result.</summary>
    public HealthState? Current { get; private set; }

    /// <summary>
    /// Feeds one probe result; true when <see cref="Current"/> changed. <paramref name="declared"/>: the instance
    /// stated <paramref name="probed"/> itself, rather than a timeout, refusal or status code implying it.
    /// </summary>
    public bool Observe(HealthState probed, bool declared = false)
    {
        if (Current is not { } current)
        {
            Current = probed;
            return true;
        }

        if (probed == HealthState.Unhealthy)
        {
            _successes = 0;
            if (current == HealthState.Unhealthy || (++_failures < UnhealthyThreshold && !declared))
            {
                return false;
            }

            _failures = 0;
            Current = HealthState.Unhealthy;
            return true;
        }

        _failures = 0;
        if (current == HealthState.Unhealthy)
        {
            if (++_successes < healthyThreshold)
            {
                return false;
            }

            _successes = 0;
            Current = probed;
            return true;
        }

        if (probed == current)
        {
            return false;
        }

        Current = probed;
        return true;
    }
}
