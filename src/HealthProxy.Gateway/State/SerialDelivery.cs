using System.Collections.Concurrent;

namespace HealthProxy.Gateway.State;

/// <summary>
/// Hands items to a callback one at a time, in the order they were queued, on whichever thread finds the queue
/// unattended, so that a writer can queue under its own lock and deliver after releasing it.
/// </summary>
/// <remarks>
/// Queue inside the lock that orders the items; call <see cref="Drain"/> after releasing it. A callback that
/// queues more (directly or through another component) has them delivered after the current one, by the same
/// drain; nothing is delivered twice or concurrently.
/// </remarks>
internal sealed class SerialDelivery<T>(Action<T> deliver)
{
    private readonly ConcurrentQueue<T> _queue = new();
    private int _draining;

    public void Enqueue(T item) => _queue.Enqueue(item);

    /// <summary>Delivers everything queued, unless another thread is delivering already (it will deliver it).</summary>
    public void Drain()
    {
        while (!_queue.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            try
            {
                while (_queue.TryDequeue(out var item))
                {
                    deliver(item);
                }
            }
            finally
            {
                Volatile.Write(ref _draining, 0);
            }
        }
    }
}
