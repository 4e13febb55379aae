using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Tests.Configuration;

public class ConfigValidationTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
        ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
        ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
    };

    [Fact]
    public async Task MapHealthProxy_ValidConfig_Starts()
    {
        await using var app = UnstartedGateway.Build(Valid);
        app.MapHealthProxy();
        await app.StartAsync();
        await app.StopAsync();
    }

    [Theory]
    [InlineData("ReverseProxy:Clusters:orders:Destinations:a:Address", "not a uri", "ReverseProxy:Clusters:orders:Destinations:a:Address must be an absolute http:// or https:// address")]
    [InlineData("ReverseProxy:Clusters:orders:Destinations:a:Address", "ftp://10.0.0.1/", "ReverseProxy:Clusters:orders:Destinations:a:Address must be an absolute http:// or https:// address")]
    [InlineData("ReverseProxy:Clusters:orders:Destinations:a:Health", "/relative", "ReverseProxy:Clusters:orders:Destinations:a:Health must be an absolute")]
    [InlineData("ReverseProxy:Routes:orders:ClusterId", "ordres", "ReverseProxy:Routes:orders:ClusterId names cluster 'ordres', which is not configured")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Interval", "-00:00:05", "ReverseProxy:Clusters:orders:HealthCheck:Active:Interval must be positive")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Timeout", "00:00:00", "ReverseProxy:Clusters:orders:HealthCheck:Active:Timeout must be positive")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.RequestKind", "Sometimes", "ReverseProxy:Routes:orders:Metadata:HealthProxy.RequestKind must be 'Read' or 'Write' (got 'Sometimes')")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Interval", "soon", "ReverseProxy:Clusters:orders:HealthCheck:Active:Interval must be a time span")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Timeout", "24:00:00", "ReverseProxy:Clusters:orders:HealthCheck:Active:Timeout must be a time span")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Interval", "60.00:00:00", "ReverseProxy:Clusters:orders:HealthCheck:Active:Interval must be positive and at most 01:00:00")]
    [InlineData("ReverseProxy:Clusters:orders:HealthCheck:Active:Enabled", "yes", "ReverseProxy:Clusters:orders:HealthCheck:Active:Enabled must be true or false")]
    [InlineData("ReverseProxy:Routes:orders:Order", "first", "ReverseProxy:Routes:orders:Order must be an integer")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.Critical", "yes", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.Critical must be 'true' or 'false' (got 'yes')")]
    [InlineData("ReverseProxy:Clusters:orders:Destinations:a:Metadata:HealthProxy.Priority", "-1", "ReverseProxy:Clusters:orders:Destinations:a:Metadata:HealthProxy.Priority must be a whole number from 0 to 100 (got '-1')")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.FailbackDelay", "soon", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.FailbackDelay must be a duration from 00:00:00 to 01:00:00 (got 'soon')")]
    [InlineData("HealthProxy:Probes:DefaultInterval", "soon", "'HealthProxy:Probes:DefaultInterval'")]
    [InlineData("HealthProxy:Probes:MaxBodyBytes", "lots", "'HealthProxy:Probes:MaxBodyBytes'")]
    [InlineData("HealthProxy:Probes:DefaultTimeout", "60.00:00:00", "HealthProxy:Probes:DefaultTimeout must be positive and at most 01:00:00")]
    [InlineData("HealthProxy:Discovery:RetryMaxDelay", "60.00:00:00", "HealthProxy:Discovery:RetryMaxDelay must be between 1 second and 1 hour")]
    [InlineData("HealthProxy:Discovery:FallbackProbeInterval", "02:00:00", "HealthProxy:Discovery:FallbackProbeInterval must be positive and at most 01:00:00")]
    public async Task MapHealthProxy_BadValue_StopsStartupNamingTheKey(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>(Valid) { [key] = value };
        await using var app = UnstartedGateway.Build(settings);

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapHealthProxy_SeveralProblems_NamesEveryKey()
    {
        var settings = new Dictionary<string, string?>(Valid)
        {
            ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "nope",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.RequestKind"] = "x",
        };
        await using var app = UnstartedGateway.Build(settings);

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains("ReverseProxy:Clusters:orders:Destinations:a:Address", error.Message, StringComparison.Ordinal);
        Assert.Contains("ReverseProxy:Routes:orders:Metadata:HealthProxy.RequestKind", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HealthProxy:Probes:UnhealthyThreshold", "0")]
    [InlineData("HealthProxy:Probes:Jitter", "1.5")]
    [InlineData("HealthProxy:Probes:DefaultInterval", "-00:00:01")]
    [InlineData("HealthProxy:Probes:MaxBodyBytes", "0")]
    [InlineData("HealthProxy:Probes:InitialConcurrency", "0")]
    public async Task MapHealthProxy_BadProbeOption_StopsStartupNamingTheKey(string key, string value)
    {
        var settings = new Dictionary<string, string?>(Valid) { [key] = value };
        await using var app = UnstartedGateway.Build(settings);

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
