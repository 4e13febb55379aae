using System.Buffers;
using HealthProxy.Consul.Discovery;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Health;

internal sealed partial class ActiveProbeMonitor
{
    /// <summary>Probes one destination on its own jittered schedule until disposed.</summary>
    /// <remarks>
    /// Supervised: whatever escapes a probe other than the exchange's own failures (building the request,
    /// reporting, the schedule) is logged at Error (<see cref="GatewayEventIds.ProbeLoopFaulted"/>), counts
    /// nothing against the instance, and the loop probes again after a backoff on the injected clock.
    /// Disposing cancels the loop, which then disposes its token source; a report racing a dispose is withdrawn again.
    /// </remarks>
    private sealed class DestinationProber : IDisposable
    {
        private static readonly RetryBackoff Restart = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), static () => 1);

        private readonly ActiveProbeMonitor _owner;
        private readonly string _destinationId;
        private readonly ProbeHysteresis _hysteresis;
        private readonly CancellationTokenSource _cts;
        private readonly CancellationToken _token;

        // 0: not started; 1: loop running (it disposes _cts); 2: disposed before it started.
        private int _started;

        public DestinationProber(ActiveProbeMonitor owner, ClusterState cluster, string destinationId)
        {
            _owner = owner;
            _destinationId = destinationId;
            Cluster = cluster;
            _hysteresis = new ProbeHysteresis(owner._options.UnhealthyThreshold, owner._options.HealthyThreshold);
            _cts = CancellationTokenSource.CreateLinkedTokenSource(owner._stopping.Token);
            _token = _cts.Token;
        }

        public string DestinationId => _destinationId;

        /// <summary>The latest YARP state of the cluster; its config is read afresh on every probe.</summary>
        public ClusterState Cluster { get; set; }

        public void Start(bool spreadFirstWait)
        {
            if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
            {
                // Never faults: RunAsync supervises itself.
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
                // The loop ended with the monitor and disposed it.
            }

            if (Interlocked.CompareExchange(ref _started, 2, 0) == 0)
            {
                _cts.Dispose();
            }
        }

        private async Task RunAsync(bool spreadFirstWait)
        {
            var token = _token;
            var probeFirst = !spreadFirstWait;
            var spread = spreadFirstWait;
            var faults = 0;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    try
                    {
                        if (probeFirst)
                        {
                            await ProbeOnceAsync().ConfigureAwait(false);
                            faults = 0;
                        }

                        while (!token.IsCancellationRequested)
                        {
                            await Task.Delay(NextWait(spread), _owner._timeProvider, token).ConfigureAwait(false);
                            spread = false;
                            await ProbeOnceAsync().ConfigureAwait(false);
                            faults = 0;
                        }
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception ex)
                    {
                        faults++;
                        var delay = Restart.Delay(faults);
                        _owner.LogLoopFaulted(ex, Cluster.ClusterId, _destinationId, delay);
                        await Task.Delay(delay, _owner._timeProvider, token).ConfigureAwait(false);
                        probeFirst = true;
                        spread = false;
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped.
            }
            finally
            {
                _cts.Dispose();
            }
        }

        /// <summary>
        /// Sends one probe and reports the (damped) result. The exchange's failures (refused, reset, timed out,
        /// an error from the handler) are the instance's; anything else (the request factory, reporting) throws.
        /// </summary>
        public async Task ProbeOnceAsync()
        {
            var token = _token;
            var cluster = Cluster;
            var active = cluster.Model.Config.HealthCheck?.Active;
            if (token.IsCancellationRequested || active?.Enabled != true || !cluster.Destinations.TryGetValue(_destinationId, out var destination))
            {
                return;
            }

            var options = _owner._options;
            var limit = active.Timeout ?? options.DefaultTimeout;
            var grpc = GrpcProbeSettings.ProtocolOf(cluster.Model.Config) == ProbeProtocol.Grpc;

            // Built outside the exchange: a factory that cannot build a probe is the gateway's fault, not the instance's.
            using var request = grpc
                ? GrpcProbe.CreateRequest(destination.Model, GrpcProbeSettings.ServiceOf(cluster.Model.Config), limit)
                : _owner._requestFactory.CreateRequest(cluster.Model, destination.Model);
            var started = _owner._timeProvider.GetTimestamp();
            HealthState result;
            var declared = false;
            try
            {
                using var timeout = new CancellationTokenSource(limit, _owner._timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, token);
                using var response = await cluster.Model.HttpClient.SendAsync(request, linked.Token).ConfigureAwait(false);
                if (grpc)
                {
                    string? failure;
                    (result, declared, failure) = await GrpcProbe.ReadStateAsync(response, options.MaxBodyBytes, linked.Token).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        // An answer that is no health statement (UNIMPLEMENTED, UNAVAILABLE, a 404) fails like a refusal.
                        _owner.LogProbeFailed(cluster.ClusterId, _destinationId, failure);
                    }
                }
                else
                {
                    (result, declared) = await ReadStateAsync(response, options.MaxBodyBytes, linked.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Refused, reset, timed out: all the same to routing.
                _owner.LogProbeFailed(cluster.ClusterId, _destinationId, ex is OperationCanceledException ? "timed out" : ex.GetType().Name);
                result = HealthState.Unhealthy;
            }

            _owner._metrics.Probe(cluster.ClusterId, result, _owner._timeProvider.GetElapsedTime(started));
            HealthState? current;
            lock (_hysteresis)
            {
                if (token.IsCancellationRequested)
                {
                    return;
                }

                _hysteresis.UnhealthyThreshold = ActiveProbePolicy.Threshold(cluster.Model.Config) ?? options.UnhealthyThreshold;
                if (!_hysteresis.Observe(result, declared))
                {
                    return;
                }

                current = _hysteresis.Current;
            }

            _owner._store.Report(cluster.ClusterId, _destinationId, HealthSource.Probe, current);
            if (token.IsCancellationRequested)
            {
                // Disposed meanwhile: the withdrawal that follows a dispose may have landed first, so withdraw
                // again; nothing is left kept for a destination that is gone.
                _owner._store.Report(cluster.ClusterId, _destinationId, HealthSource.Probe, null);
            }
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
                var total = await ProbeBody.ReadCappedAsync(response, buffer, maxBytes, cancellation).ConfigureAwait(false);

                // Too large to be a status: let the code decide, without reading the rest.
                var state = ProbeResponseParser.Parse(statusCode, total > maxBytes ? default : buffer.AsSpan(0, total), out declared);
                return (state, declared);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
