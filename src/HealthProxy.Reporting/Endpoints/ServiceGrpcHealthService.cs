using System.Threading.Channels;
using Grpc.Core;
using Grpc.Health.V1;
using HealthProxy.Health;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.Options;
using HealthBase = Grpc.Health.V1.Health.HealthBase;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>
/// <c>grpc.health.v1.Health</c> backed by <see cref="IServiceStatusProvider"/>: healthy and degraded are SERVING;
/// starting, draining and unhealthy are NOT_SERVING. Every call also carries the response header
/// <see cref="StateHeader"/> with the state's name, so a caller that reads it (the gateway's gRPC probes) can tell
/// degraded from healthy and starting or draining from unhealthy.
/// </summary>
/// <remarks>
/// The known service names are <c>""</c> (the whole server) and <see cref="ServiceHealthOptions.ServiceName"/>, both
/// answering the service's one status. As the gRPC health protocol says, Check answers NOT_FOUND for any other name and
/// Watch SERVICE_UNKNOWN, and keeps watching. Watch sends the current status, then every change: it re-reads the
/// status every <see cref="ServiceHealthEndpointOptions.GrpcWatchInterval"/> and at once on a lifecycle move (the wake-up
/// signal is a one-slot channel, so a slow client holds no one up). Once draining begins it sends that status and ends,
/// so an open stream never holds the server's shutdown.
/// </remarks>
internal sealed class ServiceGrpcHealthService(
    IServiceStatusProvider status,
    IServiceLifecycle lifecycle,
    IOptions<ServiceHealthOptions> options,
    IOptions<ServiceHealthEndpointOptions> endpointOptions,
    TimeProvider timeProvider) : HealthBase
{
    /// <summary>The response header naming the service's state (<c>healthy</c>, <c>degraded</c>, <c>starting</c>, <c>draining</c>, <c>unhealthy</c>).</summary>
    public const string StateHeader = HealthStateNames.GrpcMetadataKey;

    /// <summary>The gRPC status of a service state.</summary>
    public static ServingStatus ServingOf(HealthState state) =>
        state is HealthState.Healthy or HealthState.Degraded ? ServingStatus.Serving : ServingStatus.NotServing;

    public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        var state = (await status.GetStatusAsync(context.CancellationToken).ConfigureAwait(false)).Status;
        await context.WriteResponseHeadersAsync(StateMetadata(state)).ConfigureAwait(false);
        return IsKnown(request.Service)
            ? new HealthCheckResponse { Status = ServingOf(state) }
            : throw new RpcException(new Status(StatusCode.NotFound, "unknown service"));
    }

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        var known = IsKnown(request.Service);
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        void Wake(object? sender, ServiceLifecycleChangedEventArgs e) => signal.Writer.TryWrite(true);
        lifecycle.StateChanged += Wake;
        var interval = endpointOptions.Value.GrpcWatchInterval;
        using var recheck = timeProvider.CreateTimer(_ => signal.Writer.TryWrite(true), null, interval, interval);
        try
        {
            // Whether draining had begun is read before the status, so the status sent last is the draining one.
            var ending = lifecycle.State >= ServiceLifecycleState.Draining;
            var state = (await status.GetStatusAsync(cancellation).ConfigureAwait(false)).Status;
            await context.WriteResponseHeadersAsync(StateMetadata(state)).ConfigureAwait(false);
            ServingStatus? sent = null;
            while (true)
            {
                var serving = known ? ServingOf(state) : ServingStatus.ServiceUnknown;
                if (serving != sent)
                {
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = serving }, cancellation).ConfigureAwait(false);
                    sent = serving;
                }

                if (ending)
                {
                    return;
                }

                await signal.Reader.ReadAsync(cancellation).ConfigureAwait(false);
                ending = lifecycle.State >= ServiceLifecycleState.Draining;
                state = (await status.GetStatusAsync(cancellation).ConfigureAwait(false)).Status;
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            lifecycle.StateChanged -= Wake;
        }
    }

    private bool IsKnown(string service) => service.Length == 0 || string.Equals(service, options.Value.ServiceName, StringComparison.Ordinal);

    private static Metadata StateMetadata(HealthState state) => new() { { StateHeader, state.ToWireName() } };
}
