using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Tests.Routing;

public class RequestKindsTests
{
    private static readonly RouteConfig PlainRoute = new() { RouteId = "r", ClusterId = "c" };

    [Theory]
    [InlineData("GET", RequestKind.Read)]
    [InlineData("HEAD", RequestKind.Read)]
    [InlineData("OPTIONS", RequestKind.Read)]
    [InlineData("TRACE", RequestKind.Read)]
    [InlineData("get", RequestKind.Read)]
    [InlineData("POST", RequestKind.Write)]
    [InlineData("PUT", RequestKind.Write)]
    [InlineData("PATCH", RequestKind.Write)]
    [InlineData("DELETE", RequestKind.Write)]
    [InlineData("PROPFIND", RequestKind.Write)]
    public void Classify_ByMethod_SafeMethodsAreReads(string method, RequestKind expected)
    {
        Assert.Equal(expected, RequestKinds.Classify(method, PlainRoute));
    }

    [Fact]
    public void Classify_RouteDeclaresRead_PostIsARead()
    {
        var route = PlainRoute with { Metadata = new Dictionary<string, string> { [HealthProxyMetadata.RequestKind] = "read" } };
        Assert.Equal(RequestKind.Read, RequestKinds.Classify("POST", route));
    }

    [Fact]
    public void Classify_RouteDeclaresWrite_GetIsAWrite()
    {
        var route = PlainRoute with { Metadata = new Dictionary<string, string> { [HealthProxyMetadata.RequestKind] = "Write" } };
        Assert.Equal(RequestKind.Write, RequestKinds.Classify("GET", route));
    }
}
