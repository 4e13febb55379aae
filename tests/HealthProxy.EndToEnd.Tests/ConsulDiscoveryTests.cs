using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>Instances and their states from Consul (the in-process simulator), live, end to end.</summary>
public sealed class ConsulDiscoveryTests : IAsyncLifetime
{
    private readonly Dictionary<string, Backend> _backends = [];
    private ConsulSimulator _consul = null!;

    public async Task InitializeAsync() => _consul = await ConsulSimulator.StartAsync();

    public async Task DisposeAsync()
    {
        await _consul.DisposeAsync();
        foreach (var backend in _backends.Values)
        {
            backend.Dispose();
        }
    }

    [Fact]
    public async Task ConsulChanges_StatesAndMembership_TrafficFollowsReadsAndWritesSeparately()
    {
        Register("a");
        Register("b");
        Register("c");
        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();
        Assert.Equal(["a", "b", "c"], (await gateway.SendAsync(HttpMethod.Post, "/orders", 6)).Distinct().Order());

        // warning -> degraded: b keeps reads, loses writes.
        _consul.SetCheckStatus("check-b", "warning");
        await Eventually.HoldsAsync(async () => !(await gateway.SendAsync(HttpMethod.Post, "/orders", 6)).Contains("b"), "writes left warning b");
        Assert.Contains("b", await gateway.SendAsync(HttpMethod.Get, "/items", 6));

        // critical -> unhealthy: b gets nothing.
        _consul.SetCheckStatus("check-b", "critical");
        await Eventually.HoldsAsync(async () => !(await gateway.SendAsync(HttpMethod.Get, "/items", 6)).Contains("b"), "reads left critical b");

        // maintenance -> draining, whatever the check says.
        _consul.SetServiceMaintenance("orders-c", enable: true, "deploy");
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 6)).All(r => r == "a"), "c drained by maintenance");

        // A new instance appears with a passing check: it gets writes. Then it disappears.
        Register("d");
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 6)).Contains("d"), "writes reached new instance d");
        _consul.DeregisterService("orders-d");
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 6)).All(r => r == "a"), "d is gone");
    }

    [Fact]
    public async Task NewInstance_CriticalInConsul_NeverGetsTraffic()
    {
        Register("a");
        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();

        Register("b", status: "critical");
        for (var round = 0; round < 20; round++)
        {
            Assert.DoesNotContain("b", await gateway.SendAsync(HttpMethod.Get, "/items", 4));
        }

        Assert.Equal(0, _backends["b"].Received("GET"));
    }

    [Fact]
    public async Task ConsulDown_ServesLastKnownInstancesJudgedByProbes_AndRecovers()
    {
        Register("a");
        Register("b");
        _backends["b"].SetHealth(503, "{\"status\":\"unhealthy\"}");
        var settings = Settings();
        settings["HealthProxy:Discovery:StaleAfter"] = "00:00:01";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        // Consul says b passes, and no probes run: b takes writes.
        Assert.Contains("b", await gateway.SendAsync(HttpMethod.Post, "/orders", 4));

        await _consul.StopAsync();

        // The last snapshot keeps serving; once stale, the gateway's probes judge b unhealthy.
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 4)).All(r => r == "a"), "probes took over and ejected b");
        var ready = await gateway.Client.GetAsync("/health/ready");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("{\"status\":\"degraded\"}", await ready.Content.ReadAsStringAsync());

        // Consul returns: its states count again and the fallback probes stop.
        await _consul.RestartAsync();
        await Eventually.HoldsAsync(async () => (await gateway.Client.GetStringAsync("/health/ready")).Contains("ready", StringComparison.Ordinal), "readiness recovered", TimeSpan.FromSeconds(30));
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Post, "/orders", 4)).Contains("b"), "Consul's passing b is routed again", TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(SimulatorFault.MalformedJson)]
    [InlineData(SimulatorFault.OversizedBody)]
    [InlineData(SimulatorFault.Forbidden)]
    [InlineData(SimulatorFault.InternalError)]
    [InlineData(SimulatorFault.MissingFields)]
    public async Task ConsulAnswersBadly_LastGoodSnapshotKeepsServing(SimulatorFault fault)
    {
        Register("a");
        Register("b");
        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();

        _consul.Fault = fault;
        var requestsBefore = _consul.Requests.Count;
        await Eventually.HoldsAsync(() => _consul.Requests.Count > requestsBefore + 1, "the gateway asked Consul again and got garbage");
        _consul.SetCheckStatus("check-b", "critical");
        requestsBefore = _consul.Requests.Count;
        await Eventually.HoldsAsync(() => _consul.Requests.Count > requestsBefore + 1, "the gateway asked Consul again and got garbage again");
        Assert.Contains("b", await gateway.SendAsync(HttpMethod.Post, "/orders", 4));

        _consul.Fault = SimulatorFault.None;
        await Eventually.HoldsAsync(async () => !(await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the good answer after the garbage applied", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ConsulIndexGoesBackwards_WatchResetsAndKeepsFollowing()
    {
        Register("a");
        Register("b");
        await using var gateway = await GatewayHost.StartAsync(Settings());
        await gateway.WaitStartedAsync();
        Assert.Contains("b", await gateway.SendAsync(HttpMethod.Post, "/orders", 4));

        // A snapshot restore: the index drops below what the gateway last saw.
        _consul.RewindIndex(1);
        _consul.SetCheckStatus("check-b", "critical");

        await Eventually.HoldsAsync(async () => !(await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the change after the rewind applied", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task PublishedDependencies_BuildTheGraph_AndAFailureShowsItsBlastRadius()
    {
        const string token = "views-token";
        _backends["payment"] = Backend.Start("payment");
        _backends["checkout"] = Backend.Start("checkout");
        _consul.RegisterService(new SimulatedService
        {
            Name = "payment",
            ID = "payment-1",
            Address = "127.0.0.1",
            Port = new Uri(_backends["payment"].Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-payment", Status = "passing" }],
        });
        _consul.RegisterService(new SimulatedService
        {
            Name = "checkout",
            ID = "checkout-1",
            Address = "127.0.0.1",
            Port = new Uri(_backends["checkout"].Url).Port,
            Checks =
            [
                new SimulatedCheck
                {
                    CheckID = "check-checkout",
                    Status = "passing",
                    Output = "{\"status\":\"healthy\",\"dependencies\":{\"payment\":{\"status\":\"healthy\",\"critical\":true},\"postgres\":{\"status\":\"healthy\",\"critical\":true}}}",
                },
            ],
        });
        var settings = Settings();
        settings.Remove("ReverseProxy:Clusters:orders:Metadata:consul.service");
        settings.Remove("ReverseProxy:Clusters:orders:LoadBalancingPolicy");
        settings["ReverseProxy:Routes:all:ClusterId"] = "checkout";
        settings["ReverseProxy:Clusters:checkout:Metadata:consul.service"] = "checkout";
        settings["ReverseProxy:Clusters:payment:Metadata:consul.service"] = "payment";
        settings["HealthProxy:Security:DetailedToken"] = token;
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        async Task<System.Text.Json.JsonElement> DetailedAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/health/detailed");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await gateway.Client.SendAsync(request);
            return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        }

        // checkout publishes that it depends on payment (a cluster) and postgres (not one: left out).
        await Eventually.HoldsAsync(
            async () => (await DetailedAsync()).GetProperty("graph").TryGetProperty("checkout", out var edges)
                && edges.EnumerateArray().Select(e => e.GetString()).SequenceEqual(["payment"]),
            "the published dependency reached the graph");

        _consul.SetCheckStatus("check-payment", "critical");

        await Eventually.HoldsAsync(async () => (await DetailedAsync()).GetProperty("cascades").GetArrayLength() == 1, "payment's failure shows as a cascade");
        var cascade = (await DetailedAsync()).GetProperty("cascades")[0];
        Assert.Equal("payment", cascade.GetProperty("root").GetString());
        Assert.Equal(["checkout"], cascade.GetProperty("affected").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task ClusterRemovedFromConfig_ItsBlockingQueriesStop_AndStatusNoLongerListsIt()
    {
        Register("a");
        Register("p", service: "payments");
        var directory = Directory.CreateTempSubdirectory("healthproxy-consul-").FullName;
        try
        {
            var file = Path.Combine(directory, "appsettings.json");
            WriteClusters(file, "orders", "payments");
            var settings = Settings();
            foreach (var key in settings.Keys.Where(k => k.StartsWith("ReverseProxy:", StringComparison.Ordinal)).ToList())
            {
                settings.Remove(key);
            }

            await using var gateway = await GatewayHost.StartAsync(settings, file);
            await gateway.WaitStartedAsync();
            var discovery = gateway.App.Services.GetRequiredService<ConsulDiscovery>();
            await Eventually.HoldsAsync(() => _consul.BlockedQueriesFor("payments") == 1, "payments is watched");
            Assert.Equal(["orders", "payments"], discovery.Status.Select(s => s.Service).Order());

            WriteClusters(file, "orders");

            await Eventually.HoldsAsync(() => _consul.BlockedQueriesFor("payments") == 0, "the removed cluster's blocking query went");
            Assert.Equal(["orders"], discovery.Status.Select(s => s.Service));

            // A change to payments would wake any watch still following it; one to orders shows when it would have.
            var asked = PaymentQueries();
            Register("p2", service: "payments");
            Register("b");
            await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 6)).Contains("b"), "the orders watch saw b");
            Assert.Equal(asked, PaymentQueries());
            Assert.Equal(0, _consul.BlockedQueriesFor("payments"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        int PaymentQueries() => _consul.Requests.Count(r => r.Path == "/v1/health/service/payments");
    }

    /// <summary>Writes a routes and clusters file with one Consul cluster per service (same name), each on its own path.</summary>
    private static void WriteClusters(string file, params string[] services)
    {
        var config = new
        {
            ReverseProxy = new
            {
                Routes = services.ToDictionary(
                    s => s,
                    s => (object)new { ClusterId = s, Match = new { Path = s == "orders" ? "/{**rest}" : $"/{s}/{{**rest}}" } }),
                Clusters = services.ToDictionary(
                    s => s,
                    s => (object)new { LoadBalancingPolicy = "RoundRobin", Metadata = new Dictionary<string, string> { ["consul.service"] = s } }),
            },
        };

        // Write then move, so the watcher never reads a half-written file.
        var temp = file + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config));
        File.Move(temp, file, overwrite: true);
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["HealthProxy:Consul:Address"] = _consul.Address.ToString(),
        ["HealthProxy:Discovery:Wait"] = "00:00:02",
        ["HealthProxy:Discovery:RetryMaxDelay"] = "00:00:01",
        ["HealthProxy:Discovery:FallbackProbeInterval"] = "00:00:00.200",
        ["HealthProxy:Discovery:FallbackProbePath"] = Backend.HealthPath,
        ["ReverseProxy:Routes:all:ClusterId"] = "orders",
        ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
        ["ReverseProxy:Clusters:orders:LoadBalancingPolicy"] = "RoundRobin",
        ["ReverseProxy:Clusters:orders:Metadata:consul.service"] = "orders",
    };

    private void Register(string name, string status = "passing", string service = "orders")
    {
        if (!_backends.TryGetValue(name, out var backend))
        {
            backend = Backend.Start(name);
            _backends[name] = backend;
        }

        _consul.RegisterService(new SimulatedService
        {
            Name = service,
            ID = service + "-" + name,
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-" + name, Status = status }],
        });
    }
}
