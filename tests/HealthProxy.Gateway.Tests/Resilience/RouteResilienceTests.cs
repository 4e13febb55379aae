using HealthProxy.Gateway.Resilience;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class RouteResilienceTests
{
    [Fact]
    public void Parse_NoMetadata_PassiveHealthAndRetriesOnNoOwnTimeout()
    {
        var problems = new List<string>();

        var route = RouteResilience.Parse(null, "ReverseProxy:Routes:r:Metadata", problems);

        Assert.Empty(problems);
        Assert.True(route.PassiveHealth);
        Assert.True(route.Retries);
        Assert.Null(route.ActivityTimeout);
        Assert.Null(route.HedgeDelay);
    }

    [Fact]
    public void Parse_OptedOut_ReadsEachKey()
    {
        var metadata = new Dictionary<string, string>
        {
            [RouteResilience.PassiveHealthKey] = "false",
            [RouteResilience.RetriesKey] = "False",
            [RouteResilience.ActivityTimeoutKey] = "00:10:00",
        };

        var route = RouteResilience.Parse(metadata, "ReverseProxy:Routes:r:Metadata", []);

        Assert.False(route.PassiveHealth);
        Assert.False(route.Retries);
        Assert.Equal(TimeSpan.FromMinutes(10), route.ActivityTimeout);
    }

    [Fact]
    public void ClusterFor_OwnTimeout_ForwardsWithTheClusterCopiedOncePerModel()
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        var cluster = new ClusterModel(new ClusterConfig { ClusterId = "svc", HttpRequest = new() { ActivityTimeout = TimeSpan.FromSeconds(5), AllowResponseBuffering = true } }, invoker);
        var route = RouteResilience.Parse(new Dictionary<string, string> { [RouteResilience.ActivityTimeoutKey] = "00:10:00" }, "k", []);

        var adjusted = route.ClusterFor(cluster);

        Assert.Equal(TimeSpan.FromMinutes(10), adjusted.Config.HttpRequest!.ActivityTimeout);
        Assert.True(adjusted.Config.HttpRequest.AllowResponseBuffering);
        Assert.Same(invoker, adjusted.HttpClient);
        Assert.Same(adjusted, route.ClusterFor(cluster));
        Assert.Same(cluster, RouteResilience.Parse(null, "k", []).ClusterFor(cluster));
    }

    [Fact]
    public void Parse_HedgeDelay_ReadAsATimeSpan()
    {
        var problems = new List<string>();

        var route = RouteResilience.Parse(new Dictionary<string, string> { ["HealthProxy.HedgeDelay"] = "00:00:00.100" }, "ReverseProxy:Routes:r:Metadata", problems);

        Assert.Empty(problems);
        Assert.Equal(TimeSpan.FromMilliseconds(100), route.HedgeDelay);
    }
}
