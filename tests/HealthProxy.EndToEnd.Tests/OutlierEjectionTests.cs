using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>Passive outlier ejection end to end: failing instances are ejected by their breakers, tried again, and returned.</summary>
public sealed class OutlierEjectionTests : IDisposable
{
    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task Failures_ReachConsecutiveThreshold_InstanceEjectedAndTrafficShifts()
    {
        Add("a");
        var b = Add("b");
        Add("c");
        b.FailWith(500);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 3, retries: false));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 30);

        Assert.Equal(3, b.Received("GET"));
        Assert.Equal(3, served.Count(s => s == "b"));
        Assert.All(served.Skip(9), s => Assert.NotEqual("b", s));
    }

    [Fact]
    public async Task BusyInstance_ThousandsServedInTheWindow_EjectedAtTheThreshold()
    {
        // One instance, so every request reaches it: 1,500 successes inside the 10 s window, then a failing run.
        var b = Add("b");
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 3, retries: false);
        settings["HealthProxy:OutlierDetection:MaxEjectionPercent"] = "100";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => gateway.SendAsync(HttpMethod.Get, "/items", 1_500 / 8)));
        b.FailWith(500);

        await gateway.SendAsync(HttpMethod.Get, "/items", 3);

        var health = gateway.App.Services.GetRequiredService<InstanceHealthStore>().Get(GatewaySettings.Cluster, "b")!;
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(HealthSource.Breaker, health.Source);
    }

    [Fact]
    public async Task BreakElapses_HalfOpenTrialFails_EjectedAgain_ThenSucceeds_ReturnsToService()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 3, breakDuration: "00:00:00.5", retries: false));
        await gateway.WaitStartedAsync();

        await gateway.SendAsync(HttpMethod.Get, "/items", 10);
        Assert.Equal(3, b.Received("GET"));

        // After the break one trial request reaches b; it fails, so b is ejected again.
        await Eventually.HoldsAsync(async () => { await gateway.SendAsync(HttpMethod.Get, "/items", 1); return b.Received("GET") == 4; }, "b got its half-open trial");
        await gateway.SendAsync(HttpMethod.Get, "/items", 10);
        Assert.Equal(4, b.Received("GET"));

        // Healed: the next trial succeeds and b takes its share again.
        b.Heal();
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 2)).Contains("b"), "b passed a trial");
        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);
        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Fact]
    public async Task TwoOfThreeFailing_MaxEjectionPercent50_OnlyOneEjected()
    {
        Add("a");
        var b = Add("b");
        var c = Add("c");
        b.FailWith(500);
        c.FailWith(500);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 3, retries: false));
        await gateway.WaitStartedAsync();

        await gateway.SendAsync(HttpMethod.Get, "/items", 60);

        var counts = new[] { b.Received("GET"), c.Received("GET") }.Order().ToArray();
        Assert.Equal(3, counts[0]);
        Assert.True(counts[1] > 20, $"the second failing instance stayed in service (got {counts[1]} requests)");
    }

    [Fact]
    public async Task HungInstance_ActivityTimeout_CountsAsFailureAndEjects()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(200, delay: TimeSpan.FromSeconds(5));
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 2);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:HttpRequest:ActivityTimeout"] = "00:00:00.5";

        // A cold WireMock can take longer than the timeout to answer its first request.
        using (var warm = new HttpClient())
        {
            await warm.GetAsync(_backends[0].Url + "/warm");
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        // Reads that time out are retried on a, so the client sees only a; after two timeouts b is ejected.
        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(served, s => Assert.Equal("a", s));

        // WireMock logs a delayed request once it has answered it.
        await Eventually.HoldsAsync(() => b.Received("GET") == 2, "b's two timed-out requests were logged", TimeSpan.FromSeconds(10));
        await gateway.SendAsync(HttpMethod.Get, "/items", 4);
        Assert.Equal(2, b.Received("GET"));
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }
}
