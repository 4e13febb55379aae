using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using HealthProxy.Gateway.Views;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>grpc.health.v1.Health served by the gateway on its h2c port, called by a real gRPC client.</summary>
public sealed class GrpcHealthTests : IDisposable
{
    private readonly Backend _backend = Backend.Start("a");

    [Fact]
    public async Task Check_GatewayClusterAndUnknown_AnswerAsTheProtocolSays()
    {
        await using var gateway = await StartAsync();
        using var channel = Channel(gateway);
        var client = new Grpc.Health.V1.Health.HealthClient(channel);
        await Eventually.HoldsAsync(async () => (await client.CheckAsync(new HealthCheckRequest { Service = GatewaySettings.Cluster })).Status == ServingStatus.Serving, "the cluster serves");

        Assert.Equal(ServingStatus.Serving, (await client.CheckAsync(new HealthCheckRequest())).Status);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await client.CheckAsync(new HealthCheckRequest { Service = "nope" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Watch_BackendTurnsUnhealthy_PushesNotServingThenServing()
    {
        await using var gateway = await StartAsync();
        using var channel = Channel(gateway);
        var client = new Grpc.Health.V1.Health.HealthClient(channel);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = client.Watch(new HealthCheckRequest { Service = GatewaySettings.Cluster }, cancellationToken: cts.Token);
        var stream = watch.ResponseStream;

        Assert.Equal(ServingStatus.Serving, await NextAsync(stream, ServingStatus.Serving));
        _backend.SetState("unhealthy", 503);
        Assert.Equal(ServingStatus.NotServing, await NextAsync(stream, ServingStatus.NotServing));
        _backend.SetState("healthy");
        Assert.Equal(ServingStatus.Serving, await NextAsync(stream, ServingStatus.Serving));
    }

    [Fact]
    public async Task Watch_UnknownService_ServiceUnknown()
    {
        await using var gateway = await StartAsync();
        using var channel = Channel(gateway);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var watch = new Grpc.Health.V1.Health.HealthClient(channel).Watch(new HealthCheckRequest { Service = "nope" }, cancellationToken: cts.Token);

        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(ServingStatus.ServiceUnknown, watch.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Check_CallerOutsideAllowedNetworks_PermissionDenied()
    {
        // The allowlist also shuts this test out of /health/startup, so it does not wait for the start.
        await using var gateway = await StartAsync(wait: false, ("HealthProxy:Security:AllowedNetworks:0", "10.0.0.0/8"));
        using var channel = Channel(gateway);

        var denied = await Assert.ThrowsAsync<RpcException>(async () => await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest()));

        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    public void Dispose() => _backend.Dispose();

    /// <summary>Reads the stream until <paramref name="wanted"/> arrives (a first probe may briefly say otherwise), returning it.</summary>
    private static async Task<ServingStatus> NextAsync(IAsyncStreamReader<HealthCheckResponse> stream, ServingStatus wanted)
    {
        while (await stream.MoveNext(CancellationToken.None))
        {
            if (stream.Current.Status == wanted)
            {
                return wanted;
            }
        }

        throw new InvalidOperationException("The watch ended.");
    }

    private async Task<GatewayHost> StartAsync(bool wait = true, params (string Key, string Value)[] extra)
    {
        var settings = GatewaySettings.For([_backend]);
        settings["HealthProxy:Grpc:Port"] = "0";
        settings["HealthProxy:Grpc:Host"] = "127.0.0.1";
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var gateway = await GatewayHost.StartAsync(settings);
        if (wait)
        {
            await gateway.WaitStartedAsync();
        }

        return gateway;
    }

    private static GrpcChannel Channel(GatewayHost gateway)
    {
        var port = gateway.App.Services.GetRequiredService<GrpcHealthListener>().Port;
        Assert.NotNull(port);
        Assert.NotEqual(0, port);
        return GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
    }
}
