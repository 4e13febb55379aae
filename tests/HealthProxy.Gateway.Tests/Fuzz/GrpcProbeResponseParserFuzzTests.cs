using System.Buffers.Binary;
using CsCheck;
using Grpc.Core;
using HealthProxy.Gateway.Health;
using HealthProxy.Health;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Tests.Fuzz;

/// <summary>
/// A gRPC probe's body, status and metadata are whatever an instance sends: reading them never throws, and the
/// metadata never turns an answer that is not SERVING into a state that takes traffic. CsCheck prints the seed of a failing case.
/// </summary>
public sealed class GrpcProbeResponseParserFuzzTests
{
    private const int Iterations = 3_000;

    // Raw bytes, and bytes behind a correct length prefix, so the protobuf reader sees junk too.
    private static readonly Gen<byte[]> Bodies = Gen.OneOf(
        Gen.Byte.Array[0, 64],
        Gen.Byte.Array[0, 32].Select(message =>
        {
            var frame = new byte[5 + message.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
            message.CopyTo(frame, 5);
            return frame;
        }));

    private static readonly Gen<string> Stated = Gen.OneOf(Gen.String, Gen.OneOf("healthy", "degraded", "starting", "draining", "unhealthy", "ok", "HEALTHY ", ""));

    [Fact]
    public void TryReadMessage_AnyBytes_NeverThrows() =>
        Bodies.Sample(body => { GrpcProbeResponseParser.TryReadMessage(body, out _); }, iter: Iterations);

    [Fact]
    public void TryParseStatus_AnyText_OnlyTheSeventeenCodes() =>
        Gen.String.Sample(text => !GrpcProbeResponseParser.TryParseStatus(text, out var status) || (int)status is >= 0 and <= 16, iter: Iterations);

    [Fact]
    public void Map_AnyAnswer_NotServingNeverTakesTraffic() =>
        Gen.Select(Gen.Int[-1, 20], Gen.Int[-1, 5], Stated).Sample((code, serving, stated) =>
        {
            var state = GrpcProbeResponseParser.Map((StatusCode)code, (ServingStatus)serving, stated, out _);

            Assert.True(Enum.IsDefined(state));
            if ((StatusCode)code != StatusCode.OK || (ServingStatus)serving != ServingStatus.Serving)
            {
                Assert.False(state.Accepts(RequestKind.Read));
            }
        }, iter: Iterations);
}
