using System.Threading.Channels;
using Grpc.Core;
using Grpc.Health.V1;
using HealthProxy.Gateway.Endpoints;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// <c>grpc.health.v1.Health</c>: service <c>""</c> is the gateway itself (serving once started, until
/// it stops); a cluster id is serving while the cluster serves (an instance takes reads). Check answers NOT_FOUND for an
/// unknown name; Watch answers SERVICE_UNKNOWN and keeps watching, as the protocol asks.
/// </summary>
/// <remarks>
/// Watch sends the current status, then every change: it wakes on each views change (and, for the
/// gateway itself, once a second and when draining begins, since readiness is not an event), and writes only
/// when the status differs from the last one sent. A slow client never holds anyone up: the wake-up
/// signal is a one-slot channel that drops extra signals. Once draining begins, Watch sends the last
/// status and ends, so an open stream never holds the server's shutdown.
/// </remarks>
internal sealed class GatewayGrpcHealthService(
    HealthViews views,
    GatewayReadiness readiness,
    HealthEndpointAccess access,
    TimeProvider timeProvider) : Grpc.Health.V1.Health.HealthBase
{
    private static readonly TimeSpan GatewayRecheck = TimeSpan.FromSeconds(1);

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        Authorize(context);
        var status = Evaluate(request.Service)
            ?? throw new RpcException(new Status(StatusCode.NotFound, "unknown service"));
        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        Authorize(context);
        var signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        void Wake() => signal.Writer.TryWrite(true);
        views.Changed += Wake;
        using var stopping = readiness.StoppingToken.Register(Wake);
        using var recheck = request.Service.Length == 0 ? timeProvider.CreateTimer(_ => Wake(), null, GatewayRecheck, GatewayRecheck) : null;
        try
        {
            ServingStatus? sent = null;
            while (true)
            {
                var status = Evaluate(request.Service) ?? ServingStatus.ServiceUnknown;
                if (status != sent)
                {
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken).ConfigureAwait(false);
                    sent = status;
                }

                if (readiness.Stopping)
                {
                    return;
                }

                await signal.Reader.ReadAsync(context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            views.Changed -= Wake;
        }
    }

    private ServingStatus? Evaluate(string service)
    {
        if (service.Length == 0)
        {
            return readiness.Started && !readiness.Stopping ? ServingStatus.Serving : ServingStatus.NotServing;
        }

        return StatusOf(views.Current, service);
    }

    /// <summary>A cluster's gRPC status: SERVING while it serves (<see cref="HealthProxy.Health.HealthAggregation.IsServing"/>); null when unknown.</summary>
    internal static ServingStatus? StatusOf(HealthProxy.Health.Views.HealthViewSnapshot snapshot, string service) =>
        snapshot.Services.TryGetValue(service, out var view)
            ? view.Serving ? ServingStatus.Serving : ServingStatus.NotServing
            : null;

    private void Authorize(ServerCallContext context)
    {
        if (!access.IsAllowed(context.GetHttpContext()))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "forbidden"));
        }
    }
}
