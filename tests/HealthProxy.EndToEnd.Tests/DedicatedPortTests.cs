using System.Globalization;
using System.Net;
using Grpc.Health.V1;
using Grpc.Net.Client;
using HealthProxy.EndToEnd.Tests.Observability;
using HealthProxy.Gateway.Views;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>The gRPC health port serves grpc.health.v1.Health only; the metrics port the scrape path only.</summary>
public sealed class DedicatedPortTests : IDisposable
{
    private static readonly string[] OtherPaths = ["/items", "/health", "/health/ready", "/health/live", "/health/detailed", "/dashboard", "/metrics"];

    private readonly Backend _backend = Backend.Start("a");

    [Fact]
    public async Task GrpcPort_ServesGrpcHealthAndNothingElse()
    {
        var settings = GatewaySettings.For([_backend]);
        settings["HealthProxy:Grpc:Port"] = "0";
        settings["HealthProxy:Grpc:Host"] = "127.0.0.1";
        settings["HealthProxy:Security:DetailedToken"] = "t0ken";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        var port = gateway.App.Services.GetRequiredService<GrpcHealthListener>().Port;
        using var h2c = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        Assert.Equal(ServingStatus.Serving, (await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);
        foreach (var path in OtherPaths)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            request.Headers.Authorization = new("Bearer", "t0ken");
            using var response = await h2c.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} on the gRPC port answered {(int)response.StatusCode}");
            Assert.False(response.Headers.Contains("X-Served-By"), $"{path} on the gRPC port was proxied");
        }

        Assert.Equal(0, _backend.Server.LogEntries.Count(e => e.RequestMessage.Path != Backend.HealthPath));

        // The main port still serves everything, its health views and the proxy.
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/items")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task MetricsPort_ServesTheScrapePathOnly_AndTheMainPortNoLonger()
    {
        var settings = GatewaySettings.For([_backend]);
        var metricsPort = Tooling.FreePort();
        settings["HealthProxy:Metrics:Port"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        settings["HealthProxy:Metrics:Host"] = "127.0.0.1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };

        Assert.Contains("healthproxy_instances", await management.GetStringAsync("/metrics"), StringComparison.Ordinal);
        foreach (var path in OtherPaths.Where(p => p != "/metrics"))
        {
            using var response = await management.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} on the metrics port answered {(int)response.StatusCode}");
        }

        using var main = await gateway.Client.GetAsync("/metrics");
        Assert.DoesNotContain("healthproxy_instances", await main.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose() => _backend.Dispose();
}
