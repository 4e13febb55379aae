using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using HealthProxy.Gateway.Configuration;

namespace HealthProxy.EndToEnd.Tests.GrpcRouting;

/// <summary>gRPC over TLS on both legs: the client negotiates HTTP/2 with the gateway by ALPN, and the gateway with the instance.</summary>
public sealed class GrpcTlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grpc-tls-").FullName;

    [Fact]
    public async Task UnaryAndServerStream_OverTlsBothWays_ReachTheInstance()
    {
        using var certificate = SelfSigned();
        var pfx = Path.Combine(_dir, "gateway.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test"));
        await using var instance = await GrpcInstance.StartAsync("tls", X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null));
        var settings = GrpcGateway.Settings([instance], new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:https:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:https:Certificate:Path"] = pfx,
            ["Kestrel:Endpoints:https:Certificate:Password"] = "test",
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:HttpRequest:VersionPolicy"] = "RequestVersionOrLower",
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:HttpClient:DangerousAcceptAnyServerCertificate"] = "true",
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = "grpc/inventory.pb",
        });
        settings.Remove("HealthProxy:H2c:Port");
        settings.Remove("HealthProxy:H2c:Host");
        await using var gateway = await GatewayHost.StartAsync(settings);
        var address = gateway.App.Urls.Single(url => url.StartsWith("https://", StringComparison.Ordinal));
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() } };
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler });
        var client = new Inventory.InventoryClient(channel);

        var reply = await client.GetItemAsync(new ItemRequest { Id = "t" });
        using var watch = client.WatchItems(new ItemRequest { Id = "w", Count = 3 });
        var streamed = new List<string>();
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            streamed.Add(watch.ResponseStream.Current.Id);
        }

        Assert.Equal(("t", "tls"), (reply.Id, reply.ServedBy));
        Assert.Equal(["w-0", "w-1", "w-2"], streamed);
        Assert.Equal(HttpVersion.Version20, await NegotiatedVersionAsync(handler, address));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<Version> NegotiatedVersionAsync(HttpMessageHandler handler, string address)
    {
        using var client = new HttpClient(handler, disposeHandler: false) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        using var response = await client.GetAsync($"{address}/health/live");
        return response.Version;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
