using System.Collections.Concurrent;
using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Routing;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// The health-weighted policy end to end: the default policy of a cluster that names none, real sockets, WireMock
/// backends, shares counted from the instance that answered each of a few thousand concurrent reads.
/// </summary>
public sealed class WeightedRoutingTests : IAsyncDisposable
{
    private const int Reads = 2_000;
    private const string Token = "weights-test-token";
    private readonly List<Backend> _backends = [];
    private ConsulSimulator? _consul;

    [Fact]
    public async Task StaticWeights_ConcurrentReads_SharesFollowTheWeights()
    {
        var settings = Settings(Add("a"), Add("b"));
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:a:Metadata:HealthProxy.Weight"] = "1";
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:b:Metadata:HealthProxy.Weight"] = "3";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));

        var shares = await SharesAsync(gateway, HttpMethod.Get);

        Assert.InRange(shares.GetValueOrDefault("a"), 0.20, 0.30);
        Assert.InRange(shares.GetValueOrDefault("b"), 0.70, 0.80);
    }

    [Fact]
    public async Task DegradedDefault_TwoHealthyOneDegraded_DegradedTakesAboutNinePercentOfReadsAndNoWrites()
    {
        var settings = Settings(Add("a"), Add("b"), Add("c", "{\"status\":\"degraded\"}"));
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy), ("c", HealthState.Degraded));

        var reads = await SharesAsync(gateway, HttpMethod.Get);
        var writes = await SharesAsync(gateway, HttpMethod.Post, 200);

        // 0.2 / 2.2 = 9.1%; the tolerance covers the draw and a probe timing out mid-run on a loaded machine.
        Assert.InRange(reads.GetValueOrDefault("c"), 0.05, 0.13);
        Assert.Equal(0, writes.GetValueOrDefault("c"));
        var detailed = await DetailedAsync(gateway);
        var c = detailed.GetProperty("services").GetProperty(GatewaySettings.Cluster).GetProperty("destinations").GetProperty("c");
        Assert.Equal(0.2, c.GetProperty("readWeight").GetDouble());
        Assert.Equal(0, c.GetProperty("writeWeight").GetDouble());
        Assert.Equal("healthy+degraded", detailed.GetProperty("services").GetProperty(GatewaySettings.Cluster).GetProperty("serving").GetProperty("reads").GetString());
    }

    [Fact]
    public async Task ConsulWeights_PassingAndWarning_DecideTheShares()
    {
        _consul = await ConsulSimulator.StartAsync();
        Register("a", "passing", passing: 1, warning: 1);
        Register("b", "passing", passing: 3, warning: 1);
        Register("c", "warning", passing: 3, warning: 0);
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
            ["HealthProxy:Discovery:Wait"] = "00:00:02",
            ["ReverseProxy:Routes:all:ClusterId"] = "orders",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:orders:Metadata:consul.service"] = "orders",
        };
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await WaitForConsulStateAsync(gateway, "orders-c", HealthState.Degraded);

        var shares = await SharesAsync(gateway, HttpMethod.Get);

        // Weights.Warning 0: the warning instance takes no reads; the passing ones share by Weights.Passing.
        Assert.Equal(0, shares.GetValueOrDefault("c"));
        Assert.InRange(shares.GetValueOrDefault("b"), 0.70, 0.80);

        // Warning weight 1 of passing 3: while b warns it takes reads at weight 1 against a's 1.
        _consul.SetCheckStatus("check-b", "warning");
        await WaitForConsulStateAsync(gateway, "orders-b", HealthState.Degraded);
        shares = await SharesAsync(gateway, HttpMethod.Get);
        Assert.InRange(shares.GetValueOrDefault("b"), 0.40, 0.60);
    }

    [Fact]
    public async Task SlowStart_InstanceBackFromUnhealthy_RampsUpInsteadOfTakingAnEvenShareAtOnce()
    {
        var a = Add("a");
        var b = Add("b");
        var settings = Settings(a, b);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.SlowStartWindow"] = "00:01:00";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));
        b.SetHealth(503, "{\"status\":\"unhealthy\"}");
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("b", HealthState.Unhealthy));
        b.SetState("healthy");
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("b", HealthState.Healthy));

        var early = await SharesAsync(gateway, HttpMethod.Get, 1_000);
        var detailed = await DetailedAsync(gateway);

        // Seconds into a one-minute window b's weight is about 0.1 of a's: far below the even 50%.
        Assert.InRange(early.GetValueOrDefault("b"), 0.02, 0.25);
        var slowStart = detailed.GetProperty("services").GetProperty(GatewaySettings.Cluster).GetProperty("destinations").GetProperty("b").GetProperty("slowStart");
        Assert.InRange(slowStart.GetProperty("factor").GetDouble(), 0.1, 0.3);
        Assert.InRange(slowStart.GetProperty("progress").GetDouble(), 0, 0.3);
    }

    [Fact]
    public async Task DegradedCap_SlowDegradedInstance_TakesNoMoreReadsThanTheCapWhileTheyHang()
    {
        var healthy = Add("a");
        var degraded = Add("b", "{\"status\":\"degraded\"}");
        // b answers reads after 2 s: without the cap, at an even weight it would take about half of a burst.
        degraded.Server.Given(WireMock.RequestBuilders.Request.Create().WithPath("/items").UsingGet())
            .AtPriority(10)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200).WithHeader("X-Served-By", "b").WithBody("b").WithDelay(TimeSpan.FromSeconds(2)));
        var settings = Settings(healthy, degraded);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.DegradedWeight"] = "1";
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.DegradedMaxInFlight"] = "2";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Degraded));

        var shares = await SharesAsync(gateway, HttpMethod.Get, 60);

        // Every read was served; b got at most its cap (plus the few picked at the same instant) while they hung.
        Assert.Equal(1, shares.GetValueOrDefault("a") + shares.GetValueOrDefault("b"), 6);
        Assert.InRange(degraded.Server.LogEntries.Count(e => e.RequestMessage.Path == "/items"), 1, 6);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }

        if (_consul is not null)
        {
            await _consul.DisposeAsync();
        }
    }

    private static async Task<Dictionary<string, double>> SharesAsync(GatewayHost gateway, HttpMethod method, int count = Reads)
    {
        var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, cancel) =>
        {
            using var request = new HttpRequestMessage(method, "/items");
            if (method != HttpMethod.Get)
            {
                request.Content = new StringContent("{}");
            }

            using var response = await gateway.Client.SendAsync(request, cancel);
            var servedBy = response.Headers.TryGetValues("X-Served-By", out var values) ? values.First() : $"HTTP {(int)response.StatusCode}";
            counts.AddOrUpdate(servedBy, 1, (_, n) => n + 1);
        });
        return counts.ToDictionary(c => c.Key, c => (double)c.Value / count, StringComparer.Ordinal);
    }

    private static async Task<JsonElement> DetailedAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/detailed");
        request.Headers.Authorization = new("Bearer", Token);
        using var response = await gateway.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Waits for the store to hold <paramref name="state"/> for a Consul instance (destination id <c>node/service id</c>).</summary>
    private static Task WaitForConsulStateAsync(GatewayHost gateway, string serviceId, HealthState state)
    {
        var table = gateway.App.Services.GetRequiredService<RoutingTable>();
        return Eventually.HoldsAsync(
            () => table.TryGet("orders", out var routing) && routing.Instances.Values.Any(i => i.DestinationId.EndsWith("/" + serviceId, StringComparison.Ordinal) && i.State == state),
            $"the gateway judged {serviceId} {state}");
    }

    private static Dictionary<string, string?> Settings(params Backend[] backends)
    {
        var settings = GatewaySettings.For(backends);
        // The cluster names no policy: it gets the health-weighted one.
        settings.Remove($"ReverseProxy:Clusters:{GatewaySettings.Cluster}:LoadBalancingPolicy");
        settings["HealthProxy:Security:DetailedToken"] = Token;
        return settings;
    }

    private Backend Add(string name, string healthBody = "{\"status\":\"healthy\"}")
    {
        var backend = Backend.Start(name, 200, healthBody);
        _backends.Add(backend);
        return backend;
    }

    private void Register(string name, string status, int passing, int warning)
    {
        var backend = Add(name);
        _consul!.RegisterService(new SimulatedService
        {
            Name = "orders",
            ID = "orders-" + name,
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            WeightPassing = passing,
            WeightWarning = warning,
            Checks = [new SimulatedCheck { CheckID = "check-" + name, Status = status }],
        });
    }
}
