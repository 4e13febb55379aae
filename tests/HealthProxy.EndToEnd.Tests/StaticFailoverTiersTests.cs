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

    public void Dispose()
    {
        _local.Dispose();
        _standby.Dispose();
    }
}
