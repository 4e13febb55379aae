using System.Buffers;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Health;

internal sealed partial class ActiveProbeMonitor
{
    /// <summary>Probes one destination on its own jittered schedule until disposed.</summary>
    private sealed class DestinationProber : IDisposable
    {
        private readonly ActiveProbeMonitor _owner;
        private readonly string _destinationId;
        private readonly ProbeHysteresis _hysteresis;
        private readonly CancellationTokenSource _cts;
        private int _started;

        public DestinationProber(ActiveProbeMonitor owner, ClusterState cluster, string destinationId)
        {
            _owner = owner;
            _destinationId = destinationId;
            Cluster = cluster;
            _hysteresis = new ProbeHysteresis(owner._options.UnhealthyThreshold, owner._options.HealthyThreshold);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(owner._stopping.Token);
        }

        /// <summary>The latest YARP state of the cluster; its config is read afresh on every probe.</summary>
        public ClusterState Cluster { get; set; }

        public void Start(bool spreadFirstWait)
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _ = RunAsync(spreadFirstWait);
            }
        }

        public void Dispose()
        {
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already stopped with the monitor.
            }
        }

        private async Task RunAsync(bool spreadFirstWait)
        {
            var token = _cts.Token;
            var first = true;
            try
            {
                if (!spreadFirstWait)
                {
                    await ProbeOnceAsync().ConfigureAwait(false);
                }

                while (!token.IsCancellationRequested)
                {
                    await Task.Delay(NextWait(spreadFirstWait && first), _owner._timeProvider, token).ConfigureAwait(false);
                    first = false;
                    await ProbeOnceAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped.
            }
        }

        /// <summary>Sends one probe and reports the (damped) result. Never throws.</summary>
        public async Task ProbeOnceAsync()
        {
            var cluster = Cluster;
            var active = cluster.Model.Config.HealthCheck?.Active;
            if (active?.Enabled != true || !cluster.Destinations.TryGetValue(_destinationId, out var destination))
            {
                return;
            }

            var options = _owner._options;
            var started = _owner._timeProvider.GetTimestamp();
            HealthState result;
            var declared = false;
            try
            {
                using var timeout = new CancellationTokenSource(active.Timeout ?? options.DefaultTimeout, _owner._timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _cts.Token);
                using var request = _owner._requestFactory.CreateRequest(cluster.Model, destination.Model);
                using var response = await cluster.Model.HttpClient.SendAsync(request, linked.Token).ConfigureAwait(false);
                (result, declared) = await ReadStateAsync(response, options.MaxBodyBytes, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Refused, reset, timed out, bad address: all the same to routing.
                _owner.LogProbeFailed(cluster.ClusterId, _destinationId, ex is OperationCanceledException ? "timed out" : ex.GetType().Name);
                result = HealthState.Unhealthy;
            }

            _owner._metrics.Probe(cluster.ClusterId, result, _owner._timeProvider.GetElapsedTime(started));
            HealthState? current;
            lock (_hysteresis)
            {
                if (!_hysteresis.Observe(result, declared))
                {
                    return;
                }

                current = _hysteresis.Current;
            }

            _owner._store.Report(cluster.ClusterId, _destinationId, HealthSource.Probe, current);
        }

        private TimeSpan NextWait(bool spread)
        {
            var options = _owner._options;
            var interval = Cluster.Model.Config.HealthCheck?.Active?.Interval ?? options.DefaultInterval;
            if (_hysteresis.Current == HealthState.Unhealthy)
            {
                interval *= options.UnhealthyIntervalFactor;
            }

            // Spread the first waits over a whole interval so a thousand destinations are not probed in
            // lockstep, and keep every later wait jittered so they never fall back into step.
            var factor = spread
                ? Random.Shared.NextDouble()
                : 1.0 + (options.Jitter * ((2.0 * Random.Shared.NextDouble()) - 1.0));
            return interval * factor;
        }

        /// <summary>The state the response gives, and whether the instance stated it (see <see cref="ProbeResponseParser"/>).</summary>
        private static async Task<(HealthState State, bool Declared)> ReadStateAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellation)
        {
            var statusCode = (int)response.StatusCode;
            bool declared;
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                return (ProbeResponseParser.Parse(statusCode, default, out declared), declared);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
            try
            {
                var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    var total = 0;
                    while (total <= maxBytes)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), cancellation).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        total += read;
                    }

                    // Too large to be a status: let the code decide, without reading the rest.
                    var state = ProbeResponseParser.Parse(statusCode, total > maxBytes ? default : buffer.AsSpan(0, total), out declared);
                    return (state, declared);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
