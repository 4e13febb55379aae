using HealthProxy.Gateway.Configuration;

namespace HealthProxy.EndToEnd.Tests.GrpcRouting;

/// <summary><c>healthproxy.grpc.responses</c> in the scrape: methods only as config names them, statuses by name.</summary>
[Collection(Observability.SerialObservability.Name)]
public sealed class GrpcMetricsTests
{
    [Fact]
    public async Task Responses_CountedByConfiguredMethodAndStatus_NeverByRawPath()
    {
        await using var a = await GrpcInstance.StartAsync("a");
        await using var gateway = await GrpcGateway.StartAsync(GrpcGateway.Settings([a], new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcReadMethods}"] = "healthproxy.test.Inventory/GetItem",
        }));

        for (var i = 0; i < 3; i++)
        {
            await gateway.Client.GetItemAsync(new ItemRequest { Id = "r" });
        }

        await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" });
        a.Answer = GrpcAnswer.NotFound;
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await gateway.Client.GetItemAsync(new ItemRequest { Id = "r" }));

        var lines = (await gateway.Host.Client.GetStringAsync("/metrics")).Split('\n').Where(l => l.StartsWith("healthproxy_grpc_responses_total{", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => Has(l, "healthproxy.test.Inventory/GetItem", "OK") && l.EndsWith(" 3", StringComparison.Ordinal));
        Assert.Contains(lines, l => Has(l, "healthproxy.test.Inventory/GetItem", "NOT_FOUND") && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => Has(l, "other", "OK") && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("AddItem", StringComparison.Ordinal));
    }

    private static bool Has(string line, string method, string status) =>
        line.Contains($"cluster=\"{GrpcGateway.Cluster}\"", StringComparison.Ordinal)
        && line.Contains($"grpc_method=\"{method}\"", StringComparison.Ordinal)
        && line.Contains($"grpc_status=\"{status}\"", StringComparison.Ordinal);
}
