using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using HealthProxy.Health;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Health;

/// <summary>Turns the answer to a <c>grpc.health.v1.Health/Check</c> probe into a state.</summary>
/// <remarks>
/// <para>
/// A call that ends with a status other than OK (UNIMPLEMENTED: the server has no health service; UNAVAILABLE,
/// DEADLINE_EXCEEDED, ...) is a failed probe, counted like a refused connection. NOT_FOUND is how Check says
/// SERVICE_UNKNOWN (the gRPC health protocol), so it is read as that answer.
/// </para>
/// <para>
/// SERVING is healthy and NOT_SERVING or SERVICE_UNKNOWN unhealthy, both stated by the instance. The response
/// metadata <see cref="StateMetadata"/> (a header or a trailer, holding a state name) lets an instance say more:
/// with SERVING it wins (SERVING + <c>degraded</c> is degraded); with a not-serving answer it may only say
/// <c>starting</c> or <c>draining</c>, so it can never turn NOT_SERVING into a state that takes traffic.
/// UNKNOWN (0) or a value the protocol does not define is no statement: a failed probe.
/// </para>
/// </remarks>
internal static class GrpcProbeResponseParser
{
    /// <summary>The response metadata key with which an instance states its own state.</summary>
    public const string StateMetadata = HealthStateNames.GrpcMetadataKey;

    /// <summary>
    /// Classifies one answered call: its <paramref name="status"/>, the <paramref name="serving"/> status of its
    /// message (read only when <paramref name="status"/> is OK) and the <see cref="StateMetadata"/> value
    /// (empty when absent). <paramref name="declared"/> says whether the instance stated the state itself.
    /// </summary>
    public static HealthState Map(StatusCode status, ServingStatus serving, ReadOnlySpan<char> stated, out bool declared)
    {
        if (status == StatusCode.NotFound)
        {
            serving = ServingStatus.ServiceUnknown;
        }
        else if (status != StatusCode.OK)
        {
            declared = false;
            return HealthState.Unhealthy;
        }

        var hasStated = HealthStateNames.TryParse(stated, out var own);
        switch (serving)
        {
            case ServingStatus.Serving:
                declared = true;
                return hasStated ? own : HealthState.Healthy;
            case ServingStatus.NotServing or ServingStatus.ServiceUnknown:
                declared = true;
                return hasStated && own is HealthState.Starting or HealthState.Draining ? own : HealthState.Unhealthy;
            default:
                declared = false;
                return HealthState.Unhealthy;
        }
    }

    /// <summary>
    /// Reads a <c>grpc-status</c> value: a whole number from 0 to 16. Anything else (an unknown code, a name, empty)
    /// is no status at all, so the probe fails rather than guessing.
    /// </summary>
    public static bool TryParseStatus(string? text, out StatusCode status)
    {
        var code = GrpcRouting.GrpcStatus.Parse(text);
        status = GrpcRouting.GrpcStatus.IsDefined(code) ? (StatusCode)code : StatusCode.Unknown;
        return GrpcRouting.GrpcStatus.IsDefined(code);
    }

    /// <summary>
    /// Reads the unary response body: exactly one uncompressed length-prefixed message holding a
    /// <see cref="HealthCheckResponse"/>. False for anything else (short, compressed, trailing bytes, not protobuf).
    /// </summary>
    public static bool TryReadMessage(ReadOnlySpan<byte> body, out ServingStatus serving)
    {
        serving = ServingStatus.Unknown;
        if (body.Length < 5 || body[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(body[1..5]) != (uint)(body.Length - 5))
        {
            return false;
        }

        try
        {
            serving = HealthCheckResponse.Parser.ParseFrom(body[5..].ToArray()).Status;
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }
}
