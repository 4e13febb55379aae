using System.Net;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Hosting;

public sealed class GatewayDrainTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["ReverseProxy:Routes:orders:ClusterId"] = "orders",
        ["ReverseProxy:Routes:orders:Match:Path"] = "/orders/{**rest}",
        ["ReverseProxy:Clusters:orders:Destinations:a:Address"] = "http://127.0.0.1:1/",
    };

    [Fact]
    public async Task StopAsync_DuringDrainDelay_ReadyAnswers503DrainingWhileTheListenerStillServes()
    {
        var time = new FakeTimeProvider();
        var drainDelay = TimeSpan.FromSeconds(30);
        await using var app = Build(new(Valid) { ["HealthProxy:Shutdown:DrainDelay"] = "00:00:30" }, time);
        app.MapHealthProxy();
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("{\"status\":\"alive\"}", await client.GetStringAsync("/health/live"));

        var stopping = app.StopAsync();
        await Eventually.HoldsAsync(
            async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
            "readiness answers 503 once shutdown begins");
        var drainStarted = time.GetUtcNow();
        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal("{\"status\":\"draining\"}", await ready.Content.ReadAsStringAsync());
        }

        // Fake time only: a drain that waited on the real clock would never finish here (30 s > the deadline).
        await Eventually.HoldsAsync(
            async () =>
            {
                if (time.GetUtcNow() - drainStarted < drainDelay)
                {
                    Assert.False(stopping.IsCompleted, $"stopped after {time.GetUtcNow() - drainStarted} of fake time, before the {drainDelay} drain delay");
                    Assert.Equal("{\"status\":\"alive\"}", await client.GetStringAsync("/health/live"));
                }

                if (!stopping.IsCompleted)
                {
                    time.Advance(TimeSpan.FromSeconds(1));
                }

                return stopping.IsCompleted;
            },
            "the host stops once the drain delay has passed on the TimeProvider");
        await stopping;
        Assert.True(time.GetUtcNow() - drainStarted >= drainDelay, $"stopped after {time.GetUtcNow() - drainStarted} of fake time, before the {drainDelay} drain delay");
    }

    [Fact]
    public async Task ShutdownTimeout_IsDrainDelayPlusTimeout()
    {
        await using var app = Build(new(Valid) { ["HealthProxy:Shutdown:DrainDelay"] = "00:00:07", ["HealthProxy:Shutdown:Timeout"] = "00:00:11" }, TimeProvider.System);

        Assert.Equal(TimeSpan.FromSeconds(18), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void Defaults_FitKubernetesDefaultGracePeriod()
    {
        var defaults = new ShutdownOptions();

        Assert.Equal(TimeSpan.FromSeconds(5), defaults.DrainDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), defaults.Timeout);
        Assert.True(defaults.DrainDelay + defaults.Timeout < TimeSpan.FromSeconds(30), "under Kubernetes' default terminationGracePeriodSeconds of 30");
    }

    [Theory]
    [InlineData("HealthProxy:Shutdown:DrainDelay", "-00:00:01", "HealthProxy:Shutdown:DrainDelay must be between 00:00:00 and 00:05:00 (got -00:00:01)")]
    [InlineData("HealthProxy:Shutdown:DrainDelay", "01:00:00", "HealthProxy:Shutdown:DrainDelay must be between 00:00:00 and 00:05:00 (got 01:00:00)")]
    [InlineData("HealthProxy:Shutdown:Timeout", "00:00:00", "HealthProxy:Shutdown:Timeout must be positive and at most 00:10:00 (got 00:00:00)")]
    public async Task MapHealthProxy_BadShutdownValue_StopsStartupNamingTheKey(string key, string value, string expected)
    {
        await using var app = Build(new(Valid) { [key] = value }, TimeProvider.System);

        var error = Assert.Throws<GatewayConfigurationException>(() => app.MapHealthProxy());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static WebApplication Build(Dictionary<string, string?> settings, TimeProvider time)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(time);
        builder.AddHealthProxy();
        return builder.Build();
    }
}
