using HealthProxy.Health;
using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>Failover tiers without Consul: destination metadata <c>HealthProxy.Priority</c>, judged by the gateway's probes.</summary>
public sealed class StaticFailoverTiersTests : IDisposable
{
    private readonly Backend _local = Backend.Start("local");
    private readonly Backend _standby = Backend.Start("standby");

    [Fact]
    public async Task LocalDegradedThenDown_WritesThenReadsMoveToTheStandbyTier_AndComeBack()
    {
        var settings = GatewaySettings.For([_local, _standby]);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:standby:Metadata:HealthProxy.Priority"] = "1";
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.FailbackDelay"] = "00:00:00.500";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("local", HealthState.Healthy), ("standby", HealthState.Healthy));

        // A first probe that timed out on a busy machine would hold the local tier back for the failback delay.
        await Eventually.HoldsAsync(
            async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).All(r => r == "local") && (await gateway.SendAsync(HttpMethod.Post, "/orders", 4)).All(r => r == "local"),
            "the local tier serves both kinds");

        _local.SetState("degraded");
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 4)).All(r => r == "standby"), "writes moved to the standby tier");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 4), r => Assert.Equal("local", r));

        _local.SetState("unhealthy", 503);
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).All(r => r == "standby"), "reads moved to the standby tier");

        _local.SetState("healthy");
        await Eventually.HoldsAsync(
            async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 4)).All(r => r == "local") && (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).All(r => r == "local"),
            "both kinds returned to the local tier after the failback delay");
    }

    [Theory]
    [InlineData(null, 504)]
    [InlineData("00:00:10", 200)]
    public async Task StandbyTierSlowerThanTheClusterTimeout_FailoverActivityTimeoutGivesItItsOwn(string? failoverTimeout, int expected)
    {
        var settings = GatewaySettings.For([_local, _standby]);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:standby:Metadata:HealthProxy.Priority"] = "1";
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:HttpRequest:ActivityTimeout"] = "00:00:00.500";
        if (failoverTimeout is not null)
        {
            settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.FailoverActivityTimeout"] = failoverTimeout;
        }

        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.MaxAttempts"] = "1";
        _standby.Server.Given(WireMock.RequestBuilders.Request.Create().WithPath("/far").UsingGet())
            .AtPriority(10)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200).WithHeader("X-Served-By", "standby").WithDelay(TimeSpan.FromSeconds(2)));
        _local.SetState("unhealthy", 503);
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("local", HealthState.Unhealthy), ("standby", HealthState.Healthy));

        // The standby tier serves; its answer takes 2 s, four times the cluster's activity timeout.
        using var response = await gateway.Client.GetAsync("/far");

        Assert.Equal(expected, (int)response.StatusCode);
    }

    public void Dispose()
    {
        _local.Dispose();
        _standby.Dispose();
    }
}
