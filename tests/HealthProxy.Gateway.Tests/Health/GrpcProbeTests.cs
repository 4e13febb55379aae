using System.Buffers.Binary;
using System.Net;
using Google.Protobuf;
using Grpc.Health.V1;
using HealthProxy.Gateway.Health;
using HealthProxy.Health;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Tests.Health;

/// <summary>The gRPC probe's request on the wire, and how each shape of answer is read.</summary>
public sealed class GrpcProbeTests
{
    [Theory]
    [InlineData("http://10.0.0.1:5000/", null, "http://10.0.0.1:5000/grpc.health.v1.Health/Check")]
    [InlineData("http://10.0.0.1:5000/", "https://10.0.0.1:5999/", "https://10.0.0.1:5999/grpc.health.v1.Health/Check")]
    [InlineData("http://10.0.0.1:5000/base", null, "http://10.0.0.1:5000/base/grpc.health.v1.Health/Check")]
    public async Task CreateRequest_Destination_HealthAddressElseAddressOverHttp2Only(string address, string? health, string expected)
    {
        using var request = GrpcProbe.CreateRequest(new DestinationModel(new DestinationConfig { Address = address, Health = health }), "orders.v1.Orders", TimeSpan.FromSeconds(2));

        Assert.Equal(expected, request.RequestUri!.ToString());
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, request.VersionPolicy);
        Assert.Equal("application/grpc", request.Content!.Headers.ContentType!.MediaType);
        Assert.Equal("trailers", Assert.Single(request.Headers.TE).Value);
        Assert.Equal("2000m", Assert.Single(request.Headers.GetValues("grpc-timeout")));
        var body = await request.Content.ReadAsByteArrayAsync();
        Assert.Equal(0, body[0]);
        Assert.Equal((uint)(body.Length - 5), BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1, 4)));
        Assert.Equal("orders.v1.Orders", HealthCheckRequest.Parser.ParseFrom(body.AsSpan(5).ToArray()).Service);
    }

    [Fact]
    public async Task ReadStateAsync_MessageAndOkTrailer_ServingStatusRefinedByAHeader()
    {
        using var response = Answer(ServingStatus.Serving, "0");
        response.Headers.Add(GrpcProbeResponseParser.StateMetadata, "degraded");

        Assert.Equal((HealthState.Degraded, true, null), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Fact]
    public async Task ReadStateAsync_StateInTheTrailers_Read()
    {
        using var response = Answer(ServingStatus.NotServing, "0");
        response.TrailingHeaders.Add(GrpcProbeResponseParser.StateMetadata, "draining");

        Assert.Equal((HealthState.Draining, true, null), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Fact]
    public async Task ReadStateAsync_TrailersOnlyNotFound_UnknownServiceUnhealthy()
    {
        using var response = Answer(null, null);
        response.Headers.Add("grpc-status", "5");

        Assert.Equal((HealthState.Unhealthy, true, null), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Fact]
    public async Task ReadStateAsync_TrailersOnlyUnimplemented_FailedProbeNamingTheStatus()
    {
        using var response = Answer(null, null);
        response.Headers.Add("grpc-status", "12");
        response.Headers.Add(GrpcProbeResponseParser.StateMetadata, "healthy");

        Assert.Equal((HealthState.Unhealthy, false, "grpc-status Unimplemented"), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "application/grpc", "0", "HTTP 404")]
    [InlineData(HttpStatusCode.OK, "text/html", "0", "not a gRPC response")]
    [InlineData(HttpStatusCode.OK, "application/grpc", null, "no grpc-status")]
    [InlineData(HttpStatusCode.OK, "application/grpc", "OK", "grpc-status 'OK'")]
    public async Task ReadStateAsync_NotAGrpcAnswer_FailedProbe(HttpStatusCode code, string contentType, string? status, string reason)
    {
        using var response = Answer(ServingStatus.Serving, status, code, contentType);

        Assert.Equal((HealthState.Unhealthy, false, reason), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Fact]
    public async Task ReadStateAsync_OkWithoutAMessage_FailedProbe()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
        response.Content.Headers.ContentType = new("application/grpc");
        response.TrailingHeaders.Add("grpc-status", "0");

        Assert.Equal((HealthState.Unhealthy, false, "malformed response"), await GrpcProbe.ReadStateAsync(response, 1024, CancellationToken.None));
    }

    [Fact]
    public async Task ReadStateAsync_BodyOverTheCap_FailedProbeWithoutReadingIt()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(new byte[64]) };
        response.Content.Headers.ContentType = new("application/grpc");

        Assert.Equal((HealthState.Unhealthy, false, "response too large"), await GrpcProbe.ReadStateAsync(response, 16, CancellationToken.None));
    }

    private static HttpResponseMessage Answer(ServingStatus? serving, string? status, HttpStatusCode code = HttpStatusCode.OK, string contentType = "application/grpc")
    {
        var message = serving is { } s ? new HealthCheckResponse { Status = s }.ToByteArray() : null;
        var frame = message is null ? [] : new byte[5 + message.Length];
        if (message is not null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
            message.CopyTo(frame, 5);
        }

        var response = new HttpResponseMessage(code) { Content = new ByteArrayContent(frame) };
        response.Content.Headers.ContentType = new(contentType);
        if (status is not null)
        {
            response.TrailingHeaders.Add("grpc-status", status);
        }

        return response;
    }
}
