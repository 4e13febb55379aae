using HealthProxy.Gateway.Tests.Configuration;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Tests.Resilience;

public class ResilienceConfigValidationTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
        ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
        ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
    };

    [Theory]
    [InlineData("HealthProxy:OutlierDetection:ConsecutiveFailures", "1", "HealthProxy:OutlierDetection:ConsecutiveFailures must be 0 (off) or between 2 and 1000")]
    [InlineData("HealthProxy:OutlierDetection:FailureRatio", "1.5", "HealthProxy:OutlierDetection:FailureRatio must be 0 (off) or above 0 and at most 1")]
    [InlineData("HealthProxy:OutlierDetection:BreakDuration", "00:00:00.1", "HealthProxy:OutlierDetection:BreakDuration must be between")]
    [InlineData("HealthProxy:OutlierDetection:MaxBreakDuration", "00:00:10", "HealthProxy:OutlierDetection:MaxBreakDuration must not be shorter than BreakDuration")]
    [InlineData("HealthProxy:OutlierDetection:MaxEjectionPercent", "101", "HealthProxy:OutlierDetection:MaxEjectionPercent must be between 0 and 100")]
    [InlineData("HealthProxy:OutlierDetection:FailureStatusCodes", "5xx", "HealthProxy:OutlierDetection:FailureStatusCodes must list codes or ranges")]
    [InlineData("HealthProxy:Retries:BudgetRatio", "2", "HealthProxy:Retries:BudgetRatio must be between 0 and 1")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.ConsecutiveFailures", "many", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.ConsecutiveFailures cannot be read (got 'many')")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.MaxEjectionPercent", "-1", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.MaxEjectionPercent must be between 0 and 100")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.BreakDurration", "00:00:10", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.BreakDurration is not a known setting")]
    [InlineData("ReverseProxy:Clusters:orders:HttpRequest:ActivityTimeout", "00:00:00", "ReverseProxy:Clusters:orders:HttpRequest:ActivityTimeout must be positive")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.PassiveHealth", "off", "ReverseProxy:Routes:orders:Metadata:HealthProxy.PassiveHealth must be true or false (got 'off')")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.Retries", "no", "ReverseProxy:Routes:orders:Metadata:HealthProxy.Retries must be true or false (got 'no')")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.ActivityTimeout", "forever", "ReverseProxy:Routes:orders:Metadata:HealthProxy.ActivityTimeout must be a time span between 00:00:01 and 1.00:00:00 (got 'forever')")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.ActivityTimeout", "00:00:00", "ReverseProxy:Routes:orders:Metadata:HealthProxy.ActivityTimeout must be a time span")]
    [InlineData("HealthProxy:Retries:BackoffBaseDelay", "00:01:00", "HealthProxy:Retries:BackoffBaseDelay must be between 00:00:00 and 00:00:10")]
    [InlineData("HealthProxy:Retries:BackoffMaxDelay", "00:00:00.001", "HealthProxy:Retries:BackoffMaxDelay (00:00:00.0010000) must not be shorter than HealthProxy:Retries:BackoffBaseDelay (00:00:00.0250000)")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetryOn", "5xx,always", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetryOn must be a comma list of")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.MaxAttempts", "50", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.MaxAttempts must be a whole number from 1 to 10")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetriableStatusCodes", "2xx", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetriableStatusCodes must list codes or ranges")]
    [InlineData("ReverseProxy:Clusters:orders:Metadata:HealthProxy.IdempotentWrites", "true", "ReverseProxy:Clusters:orders:Metadata:HealthProxy.IdempotentWrites is a route setting")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.PerTryTimeout", "-00:00:01", "ReverseProxy:Routes:orders:Metadata:HealthProxy.PerTryTimeout must be a time span between")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.RetryOn", "retriable-status-codes", "ReverseProxy:Routes:orders:Metadata:HealthProxy.RetryOn lists retriable-status-codes but no HealthProxy.RetriableStatusCodes are set")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.IdempotentWrites", "maybe", "ReverseProxy:Routes:orders:Metadata:HealthProxy.IdempotentWrites must be true or false (got 'maybe')")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay", "soon", "ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay must be a time span between 00:00:00.001 and 00:01:00 (got 'soon')")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay", "00:00:00", "ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay must be a time span")]
    [InlineData("ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay", "00:05:00", "ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay must be a time span")]
    public async Task MapHealthProxy_BadResilienceSetting_StopsStartupNamingTheKey(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>(Valid) { [key] = value };
        await using var app = UnstartedGateway.Build(settings);

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapHealthProxy_ValidOverrides_Starts()
    {
        var settings = new Dictionary<string, string?>(Valid)
        {
            ["HealthProxy:OutlierDetection:BreakDuration"] = "00:00:05",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.FailureRatio"] = "0.5",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.FailureStatusCodes"] = "502-504,429",
            ["ReverseProxy:Clusters:orders:HttpRequest:ActivityTimeout"] = "00:00:02",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.OutlierDetection.ConsecutiveFailures"] = "0",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.PassiveHealth"] = "false",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.Retries"] = "False",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.ActivityTimeout"] = "00:10:00",
            ["HealthProxy:Retries:BackoffBaseDelay"] = "00:00:00.010",
            ["HealthProxy:Retries:BackoffMaxDelay"] = "00:00:00.100",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetryOn"] = "gateway-error,retriable-status-codes",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.RetriableStatusCodes"] = "500,429",
            ["ReverseProxy:Clusters:orders:Metadata:HealthProxy.MaxAttempts"] = "3",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.RetryOn"] = "retriable-status-codes,reset",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.PerTryTimeout"] = "00:00:02",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.IdempotentWrites"] = "true",
            ["ReverseProxy:Routes:orders:Metadata:HealthProxy.HedgeDelay"] = "00:00:00.050",
        };
        await using var app = UnstartedGateway.Build(settings);
        app.MapHealthProxy();
        await app.StartAsync();
        await app.StopAsync();
    }
}
