using Grpc.Net.Client;
using HealthProxy.Gateway.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests.GrpcRouting;

/// <summary>A gateway with an h2c listener in front of <see cref="GrpcInstance"/>s, and a real gRPC client through it.</summary>
public sealed class GrpcGateway : IAsyncDisposable
{
    public const string Cluster = "inventory";

    private GrpcGateway(GatewayHost host, GrpcChannel channel)
    {
        Host = host;
        Channel = channel;
        Client = new Inventory.InventoryClient(channel);
    }

    public GatewayHost Host { get; }

    public GrpcChannel Channel { get; }

    public Inventory.InventoryClient Client { get; }

    /// <summary>
    /// One route for every path to a cluster of <paramref name="instances"/> over h2c, probed on their <c>/health</c>
    /// every 200 ms; <paramref name="extra"/> adds or overrides keys.
    /// </summary>
    public static Dictionary<string, string?> Settings(IEnumerable<GrpcInstance> instances, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:H2c:Port"] = "0",
            ["HealthProxy:H2c:Host"] = "127.0.0.1",
            ["HealthProxy:Probes:UnhealthyThreshold"] = "2",
            ["HealthProxy:Retries:BudgetRatio"] = "1",
            ["HealthProxy:Retries:MinRetriesPerSecond"] = "1000",
            ["ReverseProxy:Routes:grpc:ClusterId"] = Cluster,
            ["ReverseProxy:Routes:grpc:Match:Path"] = "/{**rest}",
            [$"ReverseProxy:Clusters:{Cluster}:HttpRequest:Version"] = "2",
            [$"ReverseProxy:Clusters:{Cluster}:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Enabled"] = "true",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Interval"] = "00:00:00.200",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Timeout"] = "00:00:01",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Path"] = "/health",
        };
        foreach (var instance in instances)
        {
            settings[$"ReverseProxy:Clusters:{Cluster}:Destinations:{instance.Name}:Address"] = instance.Address;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static async Task<GrpcGateway> StartAsync(IDictionary<string, string?> settings)
    {
        var host = await GatewayHost.StartAsync(settings);
        var port = host.App.Services.GetRequiredService<GatewayListeners>().H2cPort
            ?? throw new InvalidOperationException("The gateway has no h2c listener.");
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        return new GrpcGateway(host, channel);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Host.DisposeAsync();
    }
}
