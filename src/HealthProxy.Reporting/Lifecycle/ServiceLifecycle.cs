using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Reporting.Lifecycle;

/// <summary>The one lifecycle of a host. Moves take a lock; notifications run after it is released.</summary>
internal sealed class ServiceLifecycle : IServiceLifecycle, IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger<ServiceLifecycle> _logger;
    private volatile ServiceLifecycleState _state = ServiceLifecycleState.Starting;
    private CancellationTokenSource _nextChange = new();

    public ServiceLifecycle(TimeProvider time, ILogger<ServiceLifecycle> logger)
    {
        _time = time;
        _logger = logger;
    }

    public event EventHandler<ServiceLifecycleChangedEventArgs>? StateChanged;

    public ServiceLifecycleState State => _state;

    public IChangeToken GetChangeToken()
    {
        lock (_lock)
        {
            return new CancellationChangeToken(_nextChange.Token);
        }
    }

    public bool MarkReady() => MoveTo(ServiceLifecycleState.Ready);

    public bool BeginDraining() => MoveTo(ServiceLifecycleState.Draining);

    /// <summary>Draining (or earlier) -> Stopped, at the end of the drain delay.</summary>
    public bool MarkStopped() => MoveTo(ServiceLifecycleState.Stopped);

    private bool MoveTo(ServiceLifecycleState next)
    {
        ServiceLifecycleState previous;
        CancellationTokenSource fired;
        lock (_lock)
        {
            previous = _state;
            var allowed = next == ServiceLifecycleState.Ready ? previous == ServiceLifecycleState.Starting : previous < next;
            if (!allowed)
            {
                return false;
            }

            _state = next;
            fired = _nextChange;
            _nextChange = new CancellationTokenSource();
        }

        ReportingLog.LifecycleChanged(_logger, previous, next);
        Notify(new ServiceLifecycleChangedEventArgs(previous, next, _time.GetUtcNow()));
        try
        {
            fired.Cancel();
        }
        catch (AggregateException ex)
        {
            ReportingLog.LifecycleHandlerFailed(_logger, next, ex);
        }
        finally
        {
            fired.Dispose();
        }

        return true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _nextChange.Dispose();
        }
    }

    private void Notify(ServiceLifecycleChangedEventArgs change)
    {
        if (StateChanged is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<ServiceLifecycleChangedEventArgs>>())
        {
            try
            {
                handler(this, change);
            }
#pragma warning disable CA1031 // One observer's bug must not stop the move or starve the other observers.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ReportingLog.LifecycleHandlerFailed(_logger, change.Current, ex);
            }
        }
    }
}
