using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Tests.Configuration;

namespace HealthProxy.Gateway.Tests.Health;

/// <summary>A cluster's <c>HealthCheck:Active:Policy</c> is honoured or stops startup naming the key.</summary>
public sealed class ActiveProbePolicyStartupTests
{
    private static Dictionary<string, string?> Settings(string key, string value) => new()
    {
        ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
        ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
        ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
        ["ReverseProxy:Clusters:orders:HealthCheck:Active:Enabled"] = "true",
        [key] = value,
    };

    [Theory]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Policy", "ConsecutiveFailures")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:ConsecutiveFailuresHealthPolicy.Threshold", "4")]
    public async Task MapHealthProxy_PolicyTheProbesHonour_Starts(string key, string value)
    {
        await using var app = UnstartedGateway.Build(Settings(key, value));

        app.MapHealthProxy();
    }

    [Theory]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Policy", "FailureRate", "ReverseProxy:Clusters:orders:HealthCheck:Active:Policy must be 'ConsecutiveFailures' or unset (got 'FailureRate')")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:ConsecutiveFailuresHealthPolicy.Threshold", "many", "ReverseProxy:Clusters:orders:Metadata:ConsecutiveFailuresHealthPolicy.Threshold must be a whole number from 1 to 100")]
    public async Task MapHealthProxy_PolicyTheProbesWouldIgnore_StopsStartupNamingTheKey(string key, string value, string expected)
    {
        await using var app = UnstartedGateway.Build(Settings(key, value));

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
