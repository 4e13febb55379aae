using Microsoft.Extensions.Primitives;

namespace HealthProxy.Reporting.Lifecycle;

/// <summary>
/// The service's lifecycle: the startup gate the app opens when it has initialised, and the draining state
/// it enters on shutdown. Observers (a registry publisher) follow it through <see cref="StateChanged"/> or
/// <see cref="GetChangeToken"/>.
/// </summary>
/// <remarks>
/// States only move forward (<see cref="ServiceLifecycleState"/>), each move happens once, and every move raises
/// <see cref="StateChanged"/> and fires the current change token, in that order, on the thread that made the
/// move and outside any lock. A handler that throws is logged and does not stop the move or other handlers.
/// On shutdown the host moves it to <see cref="ServiceLifecycleState.Draining"/> when
/// <c>IHostApplicationLifetime.ApplicationStopping</c> fires, keeps serving for
/// <see cref="ServiceLifecycleOptions.DrainDelay"/>, then moves it to <see cref="ServiceLifecycleState.Stopped"/>
/// before any hosted service's <c>StopAsync</c> runs (so a publisher can deregister in its own <c>StopAsync</c>).
/// </remarks>
public interface IServiceLifecycle
{
    /// <summary>The current state.</summary>
    ServiceLifecycleState State { get; }

    /// <summary>Raised after every move, with the previous and the new state.</summary>
    event EventHandler<ServiceLifecycleChangedEventArgs>? StateChanged;

    /// <summary>A token that fires at the next move; take a new one after it fired (<c>ChangeToken.OnChange</c>).</summary>
    IChangeToken GetChangeToken();

    /// <summary>
    /// Opens the startup gate: Starting -> Ready. Returns <see langword="false"/> (and changes nothing) when the
    /// service is not starting any more, e.g. already ready or draining.
    /// </summary>
    bool MarkReady();

    /// <summary>
    /// Starting or Ready -> Draining: readiness answers 503 <c>draining</c> from now on. Called by the host on
    /// shutdown; an app may call it earlier. Returns <see langword="false"/> when already draining or stopped.
    /// </summary>
    bool BeginDraining();
}
