using System.Diagnostics;
using System.Net;
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

    [Fact]
    public async Task EveryOtherRequestFails_SteadyTraffic_EjectedByTheFailureRatioWithinSeconds()
    {
        // Never two failures in a row, so only the failure ratio (on by default) can eject it; retries hide it from clients.
        await using var a = await FaultyBackend.StartAsync("a");
        await using var b = await FaultyBackend.StartAsync("b");
        b.FailEveryOther(503);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For([], 5, "00:00:30", true, ("a", a.Url), ("b", b.Url)));
        await gateway.WaitStartedAsync();
        var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();

        var started = Stopwatch.GetTimestamp();
        var served = new List<string>();
        while (store.Get(GatewaySettings.Cluster, "b")?.State != HealthState.Unhealthy && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20))
        {
            served.AddRange(await gateway.SendAsync(HttpMethod.Get, "/items", 10));
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var health = store.Get(GatewaySettings.Cluster, "b")!;
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(HealthSource.Breaker, health.Source);
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"ejected after {elapsed}");
        Assert.All(served, s => Assert.True(s is "a" or "b", $"a client saw {s}"));
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.RefuseUpload, 12)]
    [InlineData(BrokenBackend.BreakMode.RefuseUploadAbruptly, 0)]
    public async Task UploadsTheInstanceRefusesEarly_ADozen4MbUploads_InstanceNotEjected(BrokenBackend.BreakMode mode, int expected413)
    {
        // Closed gracefully, the instance's 413 reaches the client; reset, the gateway cannot read it and answers 502.
        using var refusing = new BrokenBackend(mode);
        var settings = ResilienceSettings.For([], 3, "00:00:30", true, ("a", refusing.Url), ("b", refusing.Url));
        settings["HealthProxy:OutlierDetection:MaxEjectionPercent"] = "100";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();

        var answers = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            using var client = new HttpClient { BaseAddress = gateway.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            try
            {
                using var response = await client.PutAsync("/upload", new ByteArrayContent(new byte[4 * 1024 * 1024]));
                answers.Add(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (HttpRequestException ex)
            {
                // The gateway may close the client's connection rather than read an upload it cannot use.
                answers.Add(ex.HttpRequestError.ToString());
            }
        }

        Assert.Equal(12, refusing.Received);
        Assert.Null(store.Get(GatewaySettings.Cluster, "a")!.State);
        Assert.Null(store.Get(GatewaySettings.Cluster, "b")!.State);
        Assert.True(answers.Count(s => s == "413") == expected413, "the client's answers: " + string.Join(", ", answers));
    }

    [Fact]
    public async Task RouteOptedOutOfPassiveHealth_FailuresThere_NeverEject()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500);
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 3, retries: false);
        AddPollRoute(settings, ("HealthProxy.PassiveHealth", "false"));
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        var store = gateway.App.Services.GetRequiredService<InstanceHealthStore>();

        await gateway.SendAsync(HttpMethod.Get, "/poll", 20);
        Assert.Equal(10, b.Received("GET"));
        Assert.Null(store.Get(GatewaySettings.Cluster, "b")!.State);

        // The same failures on a route that counts them eject it.
        await gateway.SendAsync(HttpMethod.Get, "/items", 6);
        Assert.Equal(HealthState.Unhealthy, store.Get(GatewaySettings.Cluster, "b")!.State);
    }

    [Fact]
    public async Task RouteWithItsOwnActivityTimeout_SilentLongerThanTheClusters_AnswersWhileOtherRoutesTimeOut()
    {
        await using var a = await FaultyBackend.StartAsync("a", normalLatency: TimeSpan.FromSeconds(1.5));
        var settings = ResilienceSettings.For([], 3, "00:00:30", false, ("a", a.Url));
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:HttpRequest:ActivityTimeout"] = "00:00:00.5";
        AddPollRoute(settings, ("HealthProxy.ActivityTimeout", "00:00:10"), ("HealthProxy.PassiveHealth", "false"), ("HealthProxy.Retries", "false"));
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        using var poll = await gateway.Client.GetAsync("/poll");
        using var items = await gateway.Client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal("a", await poll.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.GatewayTimeout, items.StatusCode);
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private static void AddPollRoute(Dictionary<string, string?> settings, params (string Key, string Value)[] metadata)
    {
        settings["ReverseProxy:Routes:poll:ClusterId"] = GatewaySettings.Cluster;
        settings["ReverseProxy:Routes:poll:Order"] = "-2";
        settings["ReverseProxy:Routes:poll:Match:Path"] = "/poll";
        foreach (var (key, value) in metadata)
        {
            settings[$"ReverseProxy:Routes:poll:Metadata:{key}"] = value;
        }
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }
}
