using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// A cluster with <c>HealthProxy.ProbeProtocol: grpc</c> probed by the real gateway: each backend is a real Grpc.AspNetCore
/// server (Grpc.HealthCheck's <see cref="HealthServiceImpl"/>, which may add <c>healthproxy-state</c>) on an h2c or TLS port.
/// </summary>
public sealed class GrpcProbeTests : IAsyncLifetime
{
    private const string Service = "orders.v1.Orders";

    private readonly List<GrpcBackend> _backends = [];

    [Fact]
    public async Task Probe_ServingAndNotServing_HealthyAndUnhealthy_AndFollowsAChange()
    {
        var a = await StartBackendAsync(ServingStatus.Serving);
        var b = await StartBackendAsync(ServingStatus.NotServing);
        await using var gateway = await GatewayHost.StartAsync(Settings(("a", a.Url), ("b", b.Url)));

        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Unhealthy));
        Assert.Equal(string.Empty, a.LastService);

        a.Health.SetStatus(string.Empty, ServingStatus.NotServing);
        b.Health.SetStatus(string.Empty, ServingStatus.Serving);
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Unhealthy), ("b", HealthState.Healthy));
    }

    [Fact]
    public async Task Probe_ConfiguredServiceName_SentAndAServerThatDoesNotKnowItIsUnhealthy()
    {
        var knows = await StartBackendAsync(ServingStatus.Serving, Service);
        var unknown = await StartBackendAsync(ServingStatus.Serving);
        var settings = Settings(("knows", knows.Url), ("unknown", unknown.Url));
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:{HealthProxyMetadata.GrpcHealthService}"] = Service;
        await using var gateway = await GatewayHost.StartAsync(settings);

        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("knows", HealthState.Healthy), ("unknown", HealthState.Unhealthy));
        Assert.Equal(Service, knows.LastService);
        Assert.Equal(Service, unknown.LastService);
    }

    [Theory]
    [InlineData(ServingStatus.Serving, "degraded", false, HealthState.Degraded)]
    [InlineData(ServingStatus.Serving, "degraded", true, HealthState.Degraded)]
    [InlineData(ServingStatus.Serving, "draining", false, HealthState.Draining)]
    [InlineData(ServingStatus.NotServing, "starting", true, HealthState.Starting)]
    [InlineData(ServingStatus.NotServing, "healthy", false, HealthState.Unhealthy)]
    public async Task Probe_StatedStateInHeaderOrTrailer_RefinesTheServingStatus(ServingStatus serving, string stated, bool inTrailer, HealthState expected)
    {
        var a = await StartBackendAsync(serving);
        a.Stated = stated;
        a.StateInTrailer = inTrailer;
        await using var gateway = await GatewayHost.StartAsync(Settings(("a", a.Url)));

        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", expected));
        var checks = a.Checks;
        await Eventually.HoldsAsync(() => a.Checks > checks + 2, "the gateway kept probing");
        Assert.Equal(expected, gateway.App.Services.GetRequiredService<Gateway.State.InstanceHealthStore>().Get(GatewaySettings.Cluster, "a")?.State);
    }

    [Fact]
    public async Task Probe_ServerWithoutHealthService_Unimplemented_Unhealthy()
    {
        var healthy = await StartBackendAsync(ServingStatus.Serving);
        var without = await StartBackendAsync(serving: null);
        var logs = new CapturingLoggerProvider();
        await using var gateway = await GatewayHost.StartAsync(
            Settings(("healthy", healthy.Url), ("without", without.Url)), configure: b => b.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));

        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("healthy", HealthState.Healthy), ("without", HealthState.Unhealthy));
        Assert.Equal(StatusCode.Unimplemented, await without.CallCheckAsync());

        // Failed as a probe (event 1200) because of the call's status, not the transport.
        await Eventually.HoldsAsync(
            () => logs.Entries.Any(e => e.EventId.Id == 1200 && e.Message.Contains("/without failed: grpc-status Unimplemented", StringComparison.Ordinal)),
            "the failed probe was logged with its grpc-status");
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 1200 && e.Message.Contains("/healthy failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Probe_HttpsBackend_TlsWithAlpn_Healthy()
    {
        var a = await StartBackendAsync(ServingStatus.Serving, tls: true);
        var settings = Settings(("a", a.Url));
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:HttpClient:DangerousAcceptAnyServerCertificate"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);

        Assert.StartsWith("https://", a.Url, StringComparison.Ordinal);
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy));
        a.Health.SetStatus(string.Empty, ServingStatus.NotServing);
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Unhealthy));
    }

    [Fact]
    public async Task Startup_UnknownProbeProtocol_RefusedNamingTheKey()
    {
        var settings = Settings(("a", "http://127.0.0.1:1"));
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:{HealthProxyMetadata.ProbeProtocol}"] = "grcp";

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains($"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.ProbeProtocol must be 'http' or 'grpc' (got 'grcp').", error.Message, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    private static Dictionary<string, string?> Settings(params (string Name, string Url)[] destinations)
    {
        var cluster = $"ReverseProxy:Clusters:{GatewaySettings.Cluster}";
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = GatewaySettings.Cluster,
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            [$"{cluster}:HealthCheck:Active:Enabled"] = "true",
            [$"{cluster}:HealthCheck:Active:Interval"] = "00:00:00.200",
            [$"{cluster}:HealthCheck:Active:Timeout"] = "00:00:01",
            [$"{cluster}:Metadata:{HealthProxyMetadata.ProbeProtocol}"] = "grpc",
            ["HealthProxy:Probes:UnhealthyThreshold"] = "2",
        };
        foreach (var (name, url) in destinations)
        {
            settings[$"{cluster}:Destinations:{name}:Address"] = url;
        }

        return settings;
    }

    private async Task<GrpcBackend> StartBackendAsync(ServingStatus? serving, string service = "", bool tls = false)
    {
        var backend = await GrpcBackend.StartAsync(serving is not null, tls);
        _backends.Add(backend);
        if (serving is { } status)
        {
            backend.Health.SetStatus(service, status);
        }

        return backend;
    }

    /// <summary>A Grpc.AspNetCore server on a loopback HTTP/2-only port: the health service, or only an unrelated one.</summary>
    internal sealed class GrpcBackend : IAsyncDisposable
    {
        private WebApplication? _app;
        private int _checks;
        private volatile string? _lastService;
        private volatile string? _stated;
        private volatile bool _stateInTrailer;

        public HealthServiceImpl Health { get; } = new();

        public string Url { get; private set; } = string.Empty;

        /// <summary>The <c>healthproxy-state</c> value every answer carries; none when null.</summary>
        public string? Stated { get => _stated; set => _stated = value; }

        /// <summary>Whether <see cref="Stated"/> goes in the trailers rather than the headers.</summary>
        public bool StateInTrailer { get => _stateInTrailer; set => _stateInTrailer = value; }

        public int Checks => Volatile.Read(ref _checks);

        public string? LastService => _lastService;

        public static async Task<GrpcBackend> StartAsync(bool health, bool tls)
        {
            var backend = new GrpcBackend();
            var builder = WebApplication.CreateSlimBuilder();
            using var certificate = tls ? SelfSigned() : null;
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null));
                }
            }));
            builder.Logging.ClearProviders();
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(backend);
            var app = builder.Build();
            if (health)
            {
                app.MapGrpcService<StatingHealthService>();
            }
            else
            {
                app.MapGrpcService<UnrelatedService>();
            }

            await app.StartAsync();
            backend._app = app;
            backend.Url = app.Urls.First();
            return backend;
        }

        /// <summary>Calls Check on this server with a real gRPC client and returns the call's status.</summary>
        public async Task<StatusCode> CallCheckAsync()
        {
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(Url);
            try
            {
                await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }

        public void Observe(string service)
        {
            Interlocked.Increment(ref _checks);
            _lastService = service;
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }

        private static X509Certificate2 SelfSigned()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        }
    }

    /// <summary>Grpc.HealthCheck's service, adding the backend's stated state to each answer.</summary>
    internal sealed class StatingHealthService(GrpcBackend backend) : Grpc.Health.V1.Health.HealthBase
    {
        public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
        {
            backend.Observe(request.Service);
            if (backend.Stated is { } stated)
            {
                if (backend.StateInTrailer)
                {
                    context.ResponseTrailers.Add("healthproxy-state", stated);
                }
                else
                {
                    await context.WriteResponseHeadersAsync(new Metadata { { "healthproxy-state", stated } });
                }
            }

            return await backend.Health.Check(request, context);
        }
    }

    /// <summary>A service that is not <c>grpc.health.v1.Health</c>, so the server answers Check with UNIMPLEMENTED; shaped as generated code is.</summary>
    [BindServiceMethod(typeof(UnrelatedBase), nameof(BindService))]
    internal abstract class UnrelatedBase
    {
        private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);
        private static readonly Method<byte[], byte[]> PingMethod = new(MethodType.Unary, "test.Unrelated", nameof(Ping), Bytes, Bytes);

        public static void BindService(ServiceBinderBase binder, UnrelatedBase? service) =>
            binder.AddMethod(PingMethod, service is null ? null : service.Ping);

        public abstract Task<byte[]> Ping(byte[] request, ServerCallContext context);
    }

    internal sealed class UnrelatedService : UnrelatedBase
    {
        public override Task<byte[]> Ping(byte[] request, ServerCallContext context) => Task.FromResult(request);
    }
}
