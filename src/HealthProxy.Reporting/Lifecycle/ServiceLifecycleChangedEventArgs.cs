namespace HealthProxy.Reporting.Lifecycle;

/// <summary>One move of the <see cref="IServiceLifecycle"/>.</summary>
public sealed class ServiceLifecycleChangedEventArgs : EventArgs
{
    /// <summary>Creates the arguments of one move.</summary>
    public ServiceLifecycleChangedEventArgs(ServiceLifecycleState previous, ServiceLifecycleState current, DateTimeOffset changedAt)
    {
        Previous = previous;
        Current = current;
        ChangedAt = changedAt;
    }

    /// <summary>The state before the move.</summary>
    public ServiceLifecycleState Previous { get; }

    /// <summary>The state after the move.</summary>
    public ServiceLifecycleState Current { get; }

    /// <summary>When it moved, by the host's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset ChangedAt { get; }
}
