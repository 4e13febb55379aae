using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using HealthProxy.Gateway.Health;
using HealthProxy.Health;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Tests.Health;

public sealed class GrpcProbeResponseParserTests
{
    [Theory]
    [InlineData(ServingStatus.Serving, "", HealthState.Healthy)]
    [InlineData(ServingStatus.Serving, "healthy", HealthState.Healthy)]
    [InlineData(ServingStatus.Serving, "degraded", HealthState.Degraded)]
    [InlineData(ServingStatus.Serving, "Starting", HealthState.Starting)]
    [InlineData(ServingStatus.Serving, "draining", HealthState.Draining)]
    [InlineData(ServingStatus.Serving, "unhealthy", HealthState.Unhealthy)]
    [InlineData(ServingStatus.Serving, "sideways", HealthState.Healthy)]
    [InlineData(ServingStatus.NotServing, "", HealthState.Unhealthy)]
    [InlineData(ServingStatus.NotServing, "starting", HealthState.Starting)]
    [InlineData(ServingStatus.NotServing, "draining", HealthState.Draining)]
    [InlineData(ServingStatus.NotServing, "healthy", HealthState.Unhealthy)]
    [InlineData(ServingStatus.NotServing, "degraded", HealthState.Unhealthy)]
    [InlineData(ServingStatus.ServiceUnknown, "", HealthState.Unhealthy)]
    [InlineData(ServingStatus.ServiceUnknown, "healthy", HealthState.Unhealthy)]
    public void Map_OkAnswer_ServingStatusRefinedByTheStatedState(ServingStatus serving, string stated, HealthState expected)
    {
        Assert.Equal(expected, GrpcProbeResponseParser.Map(StatusCode.OK, serving, stated, out var declared));
        Assert.True(declared);
    }

    [Theory]
    [InlineData("")]
    [InlineData("draining")]
    [InlineData("healthy")]
    public void Map_NotFound_IsServiceUnknown(string stated)
    {
        var expected = GrpcProbeResponseParser.Map(StatusCode.OK, ServingStatus.ServiceUnknown, stated, out _);

        Assert.Equal(expected, GrpcProbeResponseParser.Map(StatusCode.NotFound, ServingStatus.Serving, stated, out var declared));
        Assert.True(declared);
    }

    [Theory]
    [InlineData(StatusCode.Unimplemented)]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.PermissionDenied)]
    public void Map_OtherStatus_FailedProbeWhateverTheMetadata(StatusCode status)
    {
        Assert.Equal(HealthState.Unhealthy, GrpcProbeResponseParser.Map(status, ServingStatus.Serving, "healthy", out var declared));
        Assert.False(declared);
    }

    [Fact]
    public void Map_UnknownServingStatus_FailedProbe()
    {
        Assert.Equal(HealthState.Unhealthy, GrpcProbeResponseParser.Map(StatusCode.OK, ServingStatus.Unknown, "healthy", out var declared));
        Assert.False(declared);
        Assert.Equal(HealthState.Unhealthy, GrpcProbeResponseParser.Map(StatusCode.OK, (ServingStatus)42, "healthy", out declared));
        Assert.False(declared);
    }

    [Theory]
    [InlineData("0", StatusCode.OK)]
    [InlineData("5", StatusCode.NotFound)]
    [InlineData("12", StatusCode.Unimplemented)]
    [InlineData("16", StatusCode.Unauthenticated)]
    public void TryParseStatus_Code_Reads(string text, StatusCode expected)
    {
        Assert.True(GrpcProbeResponseParser.TryParseStatus(text, out var status));
        Assert.Equal(expected, status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("17")]
    [InlineData("-1")]
    [InlineData(" 0")]
    [InlineData("OK")]
    public void TryParseStatus_NotACode_False(string? text)
    {
        Assert.False(GrpcProbeResponseParser.TryParseStatus(text, out _));
    }

    [Theory]
    [InlineData(ServingStatus.Serving)]
    [InlineData(ServingStatus.NotServing)]
    [InlineData(ServingStatus.Unknown)]
    public void TryReadMessage_OneFramedResponse_ReadsItsStatus(ServingStatus expected)
    {
        Assert.True(GrpcProbeResponseParser.TryReadMessage(Frame(new HealthCheckResponse { Status = expected }.ToByteArray()), out var serving));
        Assert.Equal(expected, serving);
    }

    [Fact]
    public void TryReadMessage_MalformedFrames_False()
    {
        var message = new HealthCheckResponse { Status = ServingStatus.Serving }.ToByteArray();
        var compressed = Frame(message);
        compressed[0] = 1;

        Assert.False(GrpcProbeResponseParser.TryReadMessage([], out _));
        Assert.False(GrpcProbeResponseParser.TryReadMessage([0, 0, 0], out _));
        Assert.False(GrpcProbeResponseParser.TryReadMessage(compressed, out _));
        Assert.False(GrpcProbeResponseParser.TryReadMessage([.. Frame(message), 0], out _));
        Assert.False(GrpcProbeResponseParser.TryReadMessage(Frame(message).AsSpan(..^1), out _));
        Assert.False(GrpcProbeResponseParser.TryReadMessage(Frame([0x08, 0xFF]), out _));
    }

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }
}
