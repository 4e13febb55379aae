namespace HealthProxy.Reporting.Lifecycle;

/// <summary>Where the service is in its life. It only moves forward: Starting -> Ready -> Draining -> Stopped.</summary>
public enum ServiceLifecycleState
{
    /// <summary>Initialising: startup and readiness answer 503 <c>starting</c>.</summary>
    Starting = 0,

    /// <summary>Initialised (<see cref="IServiceLifecycle.MarkReady"/>): readiness follows the health checks.</summary>
    Ready = 1,

    /// <summary>
    /// Shutting down but still serving (the drain delay): readiness answers 503 <c>draining</c> so that load
    /// balancers and registries take the instance out before the server stops.
    /// </summary>
    Draining = 2,

    /// <summary>The drain delay is over; the host is stopping the server.</summary>
    Stopped = 3,
}
