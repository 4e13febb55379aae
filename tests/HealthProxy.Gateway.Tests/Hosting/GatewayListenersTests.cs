using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Testing;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Tests.Hosting;

/// <summary>Every way ASP.NET Core names the listening addresses keeps working beside the gRPC and metrics ports.</summary>
public sealed class GatewayListenersTests : IDisposable
{
    private readonly string _contentRoot = Directory.CreateTempSubdirectory("healthproxy-listeners-").FullName;

    [Fact]
    public async Task UrlsArgument_WithGrpcPort_MainListenerStaysWhereUrlsSays()
    {
        var (main, grpc) = (FreePort(), FreePort());
        await using var app = await StartAsync([$"--urls=http://127.0.0.1:{main}"], new() { ["HealthProxy:Grpc:Port"] = Port(grpc) });

        await AssertServesAsync(main);
        await AssertGrpcPortAsync(grpc);
    }

    [Fact]
    public async Task HttpPortsSetting_WithGrpcPort_MainListenerOnEveryInterfaceAtThatPort()
    {
        var (main, grpc) = (FreePort(), FreePort());
        await using var app = await StartAsync([$"--http_ports={main}"], new() { ["HealthProxy:Grpc:Port"] = Port(grpc) });

        await AssertServesAsync(main);
        await AssertGrpcPortAsync(grpc);
    }

    [Fact]
    public async Task HttpPortsSetting_WithMetricsPort_BothServe()
    {
        var (main, metrics) = (FreePort(), FreePort());
        await using var app = await StartAsync([$"--http_ports={main}"], new() { ["HealthProxy:Metrics:Port"] = Port(metrics) });

        await AssertServesAsync(main);
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{metrics}/metrics")).StatusCode);
    }

    [Fact]
    public async Task KestrelEndpoints_WithGrpcAndMetricsPorts_AllThreeServe()
    {
        var (main, grpc, metrics) = (FreePort(), FreePort(), FreePort());
        await using var app = await StartAsync([], new()
        {
            ["Kestrel:Endpoints:main:Url"] = $"http://127.0.0.1:{main}",
            ["HealthProxy:Grpc:Port"] = Port(grpc),
            ["HealthProxy:Metrics:Port"] = Port(metrics),
        });

        await AssertServesAsync(main);
        await AssertGrpcPortAsync(grpc);
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{metrics}/metrics")).StatusCode);
    }

    [Fact]
    public async Task HttpsPortsSetting_WithGrpcPort_ServesTlsWithTheConfiguredDefaultCertificate()
    {
        var (main, grpc) = (FreePort(), FreePort());
        var pfx = Path.Combine(_contentRoot, "gateway.pfx");
        using (var key = System.Security.Cryptography.RSA.Create(2048))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
                "CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pw"));
        }

        await using var app = await StartAsync([$"--https_ports={main}"], new()
        {
            ["HealthProxy:Grpc:Port"] = Port(grpc),
            ["Kestrel:Certificates:Default:Path"] = pfx,
            ["Kestrel:Certificates:Default:Password"] = "pw",
        });

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"https://127.0.0.1:{main}/health/live")).StatusCode);
        await AssertGrpcPortAsync(grpc);
    }

    [Fact]
    public async Task UnixSocketUrl_WithMetricsPort_BothServe()
    {
        var socket = Path.Combine(_contentRoot, "gateway.sock");
        var metrics = FreePort();
        await using var app = await StartAsync([$"--urls=http://unix:{socket}"], new() { ["HealthProxy:Metrics:Port"] = Port(metrics) });

        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancel);
                return new NetworkStream(client, ownsSocket: true);
            },
        };
        using var overSocket = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.OK, (await overSocket.GetAsync("http://localhost/health/live")).StatusCode);
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{metrics}/metrics")).StatusCode);
    }

    [Fact]
    public async Task Startup_WithGrpcAndMetricsPorts_LogsFilesAndWhatEachPortServesWithoutWarnings()
    {
        var (main, grpc, metrics) = (FreePort(), FreePort(), FreePort());
        await File.WriteAllTextAsync(Path.Combine(_contentRoot, "appsettings.json"), "{}");
        var logs = new CapturedLogs();
        await using var app = await StartAsync([$"--urls=http://127.0.0.1:{main}"], new()
        {
            ["HealthProxy:Grpc:Port"] = Port(grpc),
            ["HealthProxy:Metrics:Port"] = Port(metrics),
        }, logs);

        await AssertServesAsync(main);
        Assert.True(logs.Has(GatewayEventIds.StartupConfigFiles, Path.Combine(_contentRoot, "appsettings.json")));
        Assert.True(logs.Has(GatewayEventIds.StartupListening, $"http://127.0.0.1:{main}", "proxied traffic"));
        Assert.True(logs.Has(GatewayEventIds.StartupListening, $"http://127.0.0.1:{grpc}", "gRPC health"));
        Assert.True(logs.Has(GatewayEventIds.StartupListening, $"http://127.0.0.1:{metrics}", "/metrics only"));
        // Unobserved task exceptions are process-wide: UnobservedTaskExceptionLoggerTests faults tasks on purpose, and every
        // gateway in this test process hears of them whenever the finalizer runs.
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Category != typeof(UnobservedTaskExceptionLogger).FullName);
    }

    [Fact]
    public void MainUrls_ResolvedAsTheHostDoes()
    {
        static IReadOnlyList<string> Urls(Dictionary<string, string?> settings) =>
            GatewayListeners.MainUrls(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

        Assert.Equal(["http://localhost:5000"], Urls([]));
        Assert.Equal(["http://*:8080", "https://*:8443"], Urls(new() { ["http_ports"] = "8080", ["https_ports"] = "8443" }));
        Assert.Equal(["http://10.0.0.1:1", "http://[::1]:2"], Urls(new() { ["urls"] = "http://10.0.0.1:1; http://[::1]:2", ["http_ports"] = "8080" }));
    }

    public void Dispose() => Directory.Delete(_contentRoot, recursive: true);

    private async Task<WebApplication> StartAsync(string[] args, Dictionary<string, string?> settings, CapturedLogs? logs = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = "Testing", ContentRootPath = _contentRoot });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00",
            ["HealthProxy:Grpc:Host"] = "127.0.0.1",
            ["HealthProxy:Metrics:Host"] = "127.0.0.1",
            ["ReverseProxy:Routes:all:ClusterId"] = "svc",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:svc:Destinations:a:Address"] = "http://127.0.0.1:9",
        });
        builder.Configuration.AddInMemoryCollection(settings);

        // The command line last, as the host orders it.
        builder.Configuration.AddCommandLine(args);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.AddHealthProxy();
        var app = builder.Build();
        app.MapHealthProxy();
        await app.StartAsync();
        return app;
    }

    private static async Task AssertServesAsync(int port)
    {
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{port}/health/live")).StatusCode);
    }

    private static async Task AssertGrpcPortAsync(int port)
    {
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.Equal(HttpStatusCode.NotFound, (await h2c.GetAsync($"http://127.0.0.1:{port}/health/live")).StatusCode);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
