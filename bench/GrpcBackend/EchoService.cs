using Grpc.Core;

namespace GrpcBackend;

/// <summary><c>bench.Echo</c>: the benchmark's unary method, no work beyond building the reply.</summary>
internal sealed class EchoService : Echo.EchoBase
{
    /// <inheritdoc />
    public override Task<PingReply> Ping(PingRequest request, ServerCallContext context)
        => Task.FromResult(new PingReply { Message = "hello " + request.Name });
}
