using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Reporting.Tests.Endpoints;

/// <summary><c>grpc.health.v1.Health</c> served by the library on a real h2c Kestrel socket, called by a real gRPC client.</summary>
public sealed class ServiceGrpcHealthServiceTests
{
    [Theory]
    [InlineData("starting", ServingStatus.NotServing)]
    [InlineData("healthy", ServingStatus.Serving)]
    [InlineData("degraded", ServingStatus.Serving)]
    [InlineData("unhealthy", ServingStatus.NotServing)]
    [InlineData("draining", ServingStatus.NotServing)]
    public async Task Check_EachState_MapsToServingStatusAndNamesTheStateInTheHeader(string state, ServingStatus expected)
    {
        await using var host = await GrpcServiceHost.StartAsync();
        host.Enter(state);

        foreach (var service in new[] { string.Empty, TestServiceHost.ServiceName })
        {
            using var call = host.Client.CheckAsync(new HealthCheckRequest { Service = service });
            var headers = await call.ResponseHeadersAsync;
            var response = await call.ResponseAsync;

            Assert.Equal(expected, response.Status);
            Assert.Equal(state, headers.GetValue(ServiceGrpcHealthService.StateHeader));
        }
    }

    [Fact]
    public async Task Check_UnknownService_NotFoundWithTheStateHeader()
    {
        await using var host = await GrpcServiceHost.StartAsync();
        host.Enter("healthy");

        using var call = host.Client.CheckAsync(new HealthCheckRequest { Service = "payments" });
        var unknown = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("healthy", (await call.ResponseHeadersAsync).GetValue(ServiceGrpcHealthService.StateHeader));
    }

    [Fact]
    public async Task Watch_LifecycleAndChecksChange_PushesEachChangeThenEndsWhenDraining()
    {
        await using var host = await GrpcServiceHost.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = host.Client.Watch(new HealthCheckRequest { Service = TestServiceHost.ServiceName }, cancellationToken: cts.Token);
        var stream = watch.ResponseStream;

        Assert.Equal("starting", (await watch.ResponseHeadersAsync).GetValue(ServiceGrpcHealthService.StateHeader));
        Assert.Equal(ServingStatus.NotServing, await NextAsync(stream, cts.Token));

        host.Lifecycle.MarkReady();
        Assert.Equal(ServingStatus.Serving, await NextAsync(stream, cts.Token));

        // Degraded is still SERVING: nothing to push. Unhealthy is found by the periodic re-read.
        host.Own = HealthStatus.Unhealthy;
        Assert.Equal(ServingStatus.NotServing, await NextAsync(stream, cts.Token));
        host.Own = HealthStatus.Healthy;
        Assert.Equal(ServingStatus.Serving, await NextAsync(stream, cts.Token));

        host.Lifecycle.BeginDraining();
        Assert.Equal(ServingStatus.NotServing, await NextAsync(stream, cts.Token));
        Assert.False(await stream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Watch_UnknownService_ServiceUnknown()
    {
        await using var host = await GrpcServiceHost.StartAsync();
        host.Enter("healthy");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var watch = host.Client.Watch(new HealthCheckRequest { Service = "payments" }, cancellationToken: cts.Token);

        Assert.Equal(ServingStatus.ServiceUnknown, await NextAsync(watch.ResponseStream, cts.Token));
    }

    [Fact]
    public void ServingOf_EveryState_ServingOnlyWhenItTakesTraffic()
    {
        Assert.Equal(ServingStatus.Serving, ServiceGrpcHealthService.ServingOf(Health.HealthState.Healthy));
        Assert.Equal(ServingStatus.Serving, ServiceGrpcHealthService.ServingOf(Health.HealthState.Degraded));
        Assert.Equal(ServingStatus.NotServing, ServiceGrpcHealthService.ServingOf(Health.HealthState.Starting));
        Assert.Equal(ServingStatus.NotServing, ServiceGrpcHealthService.ServingOf(Health.HealthState.Draining));
        Assert.Equal(ServingStatus.NotServing, ServiceGrpcHealthService.ServingOf(Health.HealthState.Unhealthy));
    }

    private static async Task<ServingStatus> NextAsync(IAsyncStreamReader<HealthCheckResponse> stream, CancellationToken cancellation)
    {
        Assert.True(await stream.MoveNext(cancellation), "the watch ended");
        return stream.Current.Status;
    }

    /// <summary>A service with the library's gRPC health on an h2c-only loopback port, with one own check the test sets.</summary>
    private sealed class GrpcServiceHost : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly GrpcChannel _channel;
        private volatile int _own = (int)HealthStatus.Healthy;

        private GrpcServiceHost(WebApplication app, GrpcChannel channel)
        {
            _app = app;
            _channel = channel;
            Client = new Grpc.Health.V1.Health.HealthClient(channel);
        }

        public Grpc.Health.V1.Health.HealthClient Client { get; }

        public IServiceLifecycle Lifecycle => _app.Services.GetRequiredService<IServiceLifecycle>();

        public HealthStatus Own
        {
            get => (HealthStatus)_own;
            set => _own = (int)value;
        }

        public static async Task<GrpcServiceHost> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            builder.Logging.ClearProviders();
            GrpcServiceHost? host = null;
            builder.Services.AddServiceHealth(o => o.ServiceName = TestServiceHost.ServiceName)
                .AddCheck("own", () => new HealthCheckResult(host!.Own));
            builder.Services.AddServiceHealthGrpc();
            builder.Services.Configure<ServiceLifecycleOptions>(o => o.DrainDelay = TimeSpan.Zero);
            builder.Services.Configure<ServiceHealthEndpointOptions>(o => o.GrpcWatchInterval = TimeSpan.FromMilliseconds(100));
            var app = builder.Build();
            app.MapServiceHealthGrpc();
            await app.StartAsync();
            host = new GrpcServiceHost(app, GrpcChannel.ForAddress(app.Urls.First()));
            return host;
        }

        /// <summary>Moves the service into <paramref name="state"/>: its lifecycle, and its own check once ready.</summary>
        public void Enter(string state)
        {
            if (state == "starting")
            {
                return;
            }

            Lifecycle.MarkReady();
            switch (state)
            {
                case "degraded":
                    Own = HealthStatus.Degraded;
                    break;
                case "unhealthy":
                    Own = HealthStatus.Unhealthy;
                    break;
                case "draining":
                    Lifecycle.BeginDraining();
                    break;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
