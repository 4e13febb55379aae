using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Tests.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Tests.Health;

/// <summary>A cluster's probe protocol and gRPC health service are honoured or stop startup naming the key.</summary>
public sealed class GrpcProbeSettingsStartupTests
{
    private const string Metadata = "ReverseProxy:Clusters:orders:Metadata:";

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] metadata)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
            ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
            ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
            ["ReverseProxy:Clusters:orders:HealthCheck:Active:Enabled"] = "true",
        };
        foreach (var (key, value) in metadata)
        {
            settings[Metadata + key] = value;
        }

        return settings;
    }

    [Theory]
    [InlineData("http")]
    [InlineData("grpc")]
    [InlineData("GRPC")]
    public async Task MapHealthProxy_KnownProtocol_Starts(string protocol)
    {
        await using var app = UnstartedGateway.Build(Settings((HealthProxyMetadata.ProbeProtocol, protocol)));

        app.MapHealthProxy();
    }

    [Fact]
    public async Task MapHealthProxy_GrpcWithServiceName_Starts()
    {
        await using var app = UnstartedGateway.Build(Settings((HealthProxyMetadata.ProbeProtocol, "grpc"), (HealthProxyMetadata.GrpcHealthService, "orders.v1.Orders")));

        app.MapHealthProxy();
    }

    [Fact]
    public async Task MapHealthProxy_UnknownProtocol_StopsStartupNamingTheKey()
    {
        await using var app = UnstartedGateway.Build(Settings((HealthProxyMetadata.ProbeProtocol, "tcp")));

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains("ReverseProxy:Clusters:orders:Metadata:HealthProxy.ProbeProtocol must be 'http' or 'grpc' (got 'tcp').", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapHealthProxy_ServiceNameOnAnHttpCluster_StopsStartupNamingTheKey()
    {
        await using var app = UnstartedGateway.Build(Settings((HealthProxyMetadata.GrpcHealthService, "orders.v1.Orders")));

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains("ReverseProxy:Clusters:orders:Metadata:HealthProxy.GrpcHealthService is only read when", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProtocolAndService_Unset_HttpAndTheWholeServer()
    {
        var cluster = new ClusterConfig { ClusterId = "orders" };

        Assert.Equal(ProbeProtocol.Http, GrpcProbeSettings.ProtocolOf(cluster));
        Assert.Equal(string.Empty, GrpcProbeSettings.ServiceOf(cluster));
    }

    [Fact]
    public void ProtocolAndService_Set_Read()
    {
        var cluster = new ClusterConfig
        {
            ClusterId = "orders",
            Metadata = new Dictionary<string, string> { [HealthProxyMetadata.ProbeProtocol] = "Grpc", [HealthProxyMetadata.GrpcHealthService] = "orders.v1.Orders" },
        };

        Assert.Equal(ProbeProtocol.Grpc, GrpcProbeSettings.ProtocolOf(cluster));
        Assert.Equal("orders.v1.Orders", GrpcProbeSettings.ServiceOf(cluster));
    }
}
