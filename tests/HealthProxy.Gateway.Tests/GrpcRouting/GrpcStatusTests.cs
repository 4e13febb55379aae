using HealthProxy.Gateway.GrpcRouting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.Tests.GrpcRouting;

public class GrpcStatusTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("14", 14)]
    [InlineData("16", 16)]
    [InlineData("", -1)]
    [InlineData("x", -1)]
    [InlineData("1x", -1)]
    [InlineData("1234", -1)]
    [InlineData("-1", -1)]
    public void Parse_Digits(string value, int expected) => Assert.Equal(expected, GrpcStatus.Parse(new StringValues(value)));

    [Fact]
    public void Parse_MissingOrRepeated_None()
    {
        Assert.Equal(-1, GrpcStatus.Parse(StringValues.Empty));
        Assert.Equal(-1, GrpcStatus.Parse(new StringValues(["14", "0"])));
    }

    [Fact]
    public void Of_HeadersFirstThenTrailers()
    {
        var context = new DefaultHttpContext();
        IHeaderDictionary trailers = new HeaderDictionary();
        context.Features.Set<IHttpResponseTrailersFeature>(new TrailersFeature { Trailers = trailers });
        Assert.Equal(-1, GrpcStatus.Of(context.Response));

        trailers.GrpcStatus = "5";
        Assert.Equal(5, GrpcStatus.Of(context.Response));

        context.Response.Headers.GrpcStatus = "14";
        Assert.Equal(14, GrpcStatus.Of(context.Response));
    }

    [Theory]
    [InlineData("UNAVAILABLE", "UNAVAILABLE")]
    [InlineData("unavailable, internal", "INTERNAL,UNAVAILABLE")]
    [InlineData("14,13,data-loss", "INTERNAL,UNAVAILABLE,DATA_LOSS")]
    [InlineData("deadline_exceeded,RESOURCE_EXHAUSTED,UNKNOWN,ABORTED", "UNKNOWN,DEADLINE_EXCEEDED,RESOURCE_EXHAUSTED,ABORTED")]
    public void TryParseInstanceCodes_ServerCodes(string text, string expected)
    {
        Assert.True(GrpcStatusSet.TryParseInstanceCodes(text, out var set, out var problem), problem);
        Assert.Equal(expected, set.ToString());
    }

    [Theory]
    [InlineData("OK", "describes the request")]
    [InlineData("UNAVAILABLE,NOT_FOUND", "NOT_FOUND, which describes the request")]
    [InlineData("INVALID_ARGUMENT", "describes the request")]
    [InlineData("CANCELLED", "describes the request")]
    [InlineData("UNAUTHENTICATED", "describes the request")]
    [InlineData("17", "not a gRPC status code")]
    [InlineData("SLOW", "not a gRPC status code")]
    [InlineData("", "is empty")]
    public void TryParseInstanceCodes_RequestCodesAndNonsense_Refused(string text, string expected)
    {
        Assert.False(GrpcStatusSet.TryParseInstanceCodes(text, out _, out var problem));
        Assert.Contains(expected, problem);
    }

    [Fact]
    public void Name_OutsideTheSpec_IsNone()
    {
        Assert.Equal("UNAVAILABLE", GrpcStatus.Name(14));
        Assert.Equal(GrpcStatus.NoStatus, GrpcStatus.Name(-1));
        Assert.Equal(GrpcStatus.NoStatus, GrpcStatus.Name(17));
    }

    [Theory]
    [InlineData("application/grpc", "HTTP/2", true)]
    [InlineData("application/grpc+proto", "HTTP/2", true)]
    [InlineData("application/grpc; charset=utf-8", "HTTP/2", true)]
    [InlineData("APPLICATION/GRPC", "HTTP/3", true)]
    [InlineData("application/grpc", "HTTP/1.1", false)]
    [InlineData("application/grpc-web", "HTTP/2", false)]
    [InlineData("application/grpcx", "HTTP/2", false)]
    [InlineData("application/json", "HTTP/2", false)]
    [InlineData(null, "HTTP/2", false)]
    [InlineData("application/grpc", "HTTP/2", false, "GET")]
    public void IsGrpc_Http2PostWithTheGrpcContentType(string? contentType, string protocol, bool expected, string method = "POST")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.ContentType = contentType;
        context.Request.Protocol = protocol;

        Assert.Equal(expected, GrpcCalls.IsGrpc(context.Request));
    }

    private sealed class TrailersFeature : IHttpResponseTrailersFeature
    {
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();
    }
}
