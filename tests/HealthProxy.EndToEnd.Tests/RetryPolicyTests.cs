using HealthProxy.Testing.Gateway;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// The configurable retry policy end to end (<c>HealthProxy.RetryOn</c>, <c>HealthProxy.RetriableStatusCodes</c>,
/// <c>HealthProxy.MaxAttempts</c>, <c>HealthProxy.PerTryTimeout</c>, <c>HealthProxy.IdempotentWrites</c>): each
/// condition retried when listed and not when not, and writes never sent twice to instances whatever is listed.
/// Serial: some read the gateway's /metrics, which would show a parallel test's gateway too.
/// </summary>
[Collection(Observability.SerialObservability.Name)]
public sealed class RetryPolicyTests : IDisposable
{
    private const string ClusterMetadata = $"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:";
    private const string RouteMetadata = "ReverseProxy:Routes:all:Metadata:";
    private const string Everything = "5xx,gateway-error,reset,connect-failure,refused-stream,retriable-status-codes";
    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task FiveXx_Backend500_RetriedElsewhere()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500);
        await using var gateway = await StartAsync(("HealthProxy.RetryOn", "5xx"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.Equal(5, b.Received("GET"));
    }

    [Fact]
    public async Task DefaultPolicy_Backend500_ReachesTheClient()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500);
        await using var gateway = await StartAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        // gateway-error is 502, 503 and 504 only.
        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Fact]
    public async Task RetriableStatusCodes_ListedCodeRetried_UnlistedGatewayErrorNot()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(409);
        await using var gateway = await StartAsync(("HealthProxy.RetryOn", "retriable-status-codes"), ("HealthProxy.RetriableStatusCodes", "409,500"));

        var retried = await gateway.SendAsync(HttpMethod.Get, "/items", 10);
        b.FailWith(503);
        var notRetried = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(retried, s => Assert.Equal("a", s));
        Assert.Equal(5, notRetried.Count(s => s == "b"));
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.Reset)]
    [InlineData(BrokenBackend.BreakMode.Close)]
    public async Task Reset_Listed_BrokenConnectionRetried(BrokenBackend.BreakMode mode)
    {
        Add("a");
        using var broken = new BrokenBackend(mode);
        await using var gateway = await StartAsync([("b", broken.Url)], ("HealthProxy.RetryOn", "reset"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.True(broken.Received >= 5, $"b was tried (got {broken.Received})");
    }

    [Fact]
    public async Task Reset_NotListed_BrokenConnectionReachesTheClient()
    {
        Add("a");
        using var broken = new BrokenBackend(BrokenBackend.BreakMode.Reset);
        await using var gateway = await StartAsync([("b", broken.Url)], ("HealthProxy.RetryOn", "gateway-error,connect-failure"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "HTTP 502"));
        Assert.Equal(5, broken.Received);
    }

    [Fact]
    public async Task ConnectFailure_Listed_RefusedWriteRetriedWhole()
    {
        var a = Add("a");
        await using var gateway = await StartAsync([("dead", ResilienceSettings.RefusingAddress())], ("HealthProxy.RetryOn", "connect-failure"));

        var served = await gateway.SendAsync(HttpMethod.Post, "/orders", 10);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.All(a.Server.LogEntries, e => Assert.Equal("{}", e.RequestMessage.Body));
    }

    [Fact]
    public async Task ConnectFailure_NotListed_RefusedConnectionReachesTheClient()
    {
        Add("a");
        await using var gateway = await StartAsync([("dead", ResilienceSettings.RefusingAddress())], ("HealthProxy.RetryOn", "gateway-error"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "HTTP 502"));
    }

    [Fact]
    public async Task MaxAttempts3_TwoFailingInstances_EveryReadServedAndCountedByAttempt()
    {
        Add("a");
        var b = Add("b");
        var c = Add("c");
        b.FailWith(503);
        c.FailWith(500);
        await using var gateway = await StartAsync(("HealthProxy.RetryOn", "5xx"), ("HealthProxy.MaxAttempts", "3"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 12);

        // Round robin: 8 of 12 start on a failing instance; a retry goes to an instance not tried yet.
        Assert.All(served, s => Assert.Equal("a", s));
        Assert.InRange(b.Received("GET") + c.Received("GET"), 8, 16);
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("healthproxy_retries_total{", StringComparison.Ordinal) && l.Contains("attempt=\"2\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetryBudgetSpent_FailingCluster_NoRetriesAndRefusalsCountedByReason()
    {
        var a = Add("a");
        var b = Add("b");
        a.FailWith(500);
        b.FailWith(500);
        var settings = Settings(("HealthProxy.RetryOn", "5xx"), ("HealthProxy.MaxAttempts", "5"));
        settings["HealthProxy:Retries:BudgetRatio"] = "0";
        settings["HealthProxy:Retries:MinRetriesPerSecond"] = "0";
        await using var gateway = await StartAsync(settings);

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        // Every instance fails and the budget allows nothing: each request is tried once, never multiplied.
        Assert.Equal(10, served.Count(s => s is "a" or "b"));
        Assert.Equal(10, a.Received("GET") + b.Received("GET"));
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("healthproxy_retries_budget_exhausted_total{", StringComparison.Ordinal) && l.Contains("reason=\"status\"", StringComparison.Ordinal));
        Assert.DoesNotContain(metrics.Split('\n'), l => l.StartsWith("healthproxy_retries_total{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaxAttempts1_NoRetry()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503);
        await using var gateway = await StartAsync(("HealthProxy.MaxAttempts", "1"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Fact]
    public async Task RouteOverride_NarrowerRetryOn_WinsOverItsClusters()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500);
        var settings = Settings(("HealthProxy.RetryOn", "5xx"));
        settings[RouteMetadata + "HealthProxy.RetryOn"] = "gateway-error";
        await using var gateway = await StartAsync(settings);

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("PUT", true)]
    [InlineData("DELETE", false)]
    public async Task Writes_ReachedAnInstance_NeverSentAgainWhateverTheConfig(string method, bool body)
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500, method);
        await using var gateway = await StartAsync(("HealthProxy.RetryOn", Everything), ("HealthProxy.RetriableStatusCodes", "400-599"), ("HealthProxy.MaxAttempts", "10"));

        var served = await gateway.SendAsync(new HttpMethod(method), "/orders", 10, body);

        Assert.Equal(5, b.Received(method));
        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.Reset, "DELETE", false)]
    [InlineData(BrokenBackend.BreakMode.Reset, "POST", true)]
    [InlineData(BrokenBackend.BreakMode.Close, "POST", true)]
    public async Task Writes_ConnectionBrokenAfterSending_NeverSentAgainWhateverTheConfig(BrokenBackend.BreakMode mode, string method, bool body)
    {
        var a = Add("a");
        using var broken = new BrokenBackend(mode);
        await using var gateway = await StartAsync([("b", broken.Url)], ("HealthProxy.RetryOn", Everything), ("HealthProxy.RetriableStatusCodes", "500"), ("HealthProxy.MaxAttempts", "10"));

        var served = await gateway.SendAsync(new HttpMethod(method), "/orders", 10, body);

        Assert.Equal(5, broken.Received);
        Assert.Equal(5, a.Received(method));
        Assert.Equal(5, served.Count(s => s == "HTTP 502"));
    }

    [Fact]
    public async Task IdempotentWrites_WriteWithoutABody_RetriedLikeARead()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500, "DELETE");
        var settings = Settings(("HealthProxy.RetryOn", "5xx"));
        settings[RouteMetadata + "HealthProxy.IdempotentWrites"] = "true";
        await using var gateway = await StartAsync(settings);

        var served = await gateway.SendAsync(HttpMethod.Delete, "/orders/7", 10, body: false);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.Equal(5, b.Received("DELETE"));
    }

    [Fact]
    public async Task IdempotentWrites_WriteWithABody_NotSentAgainItsBodyIsGone()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(500, "PUT");
        var settings = Settings(("HealthProxy.RetryOn", "5xx"));
        settings[RouteMetadata + "HealthProxy.IdempotentWrites"] = "true";
        await using var gateway = await StartAsync(settings);

        var served = await gateway.SendAsync(HttpMethod.Put, "/orders/7", 10, body: true);

        Assert.Equal(5, served.Count(s => s == "b"));
        Assert.Equal(5, b.Received("PUT"));
    }

    [Fact]
    public async Task PerTryTimeout_SlowInstance_TryCancelledAndRetriedElsewhere()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(200, delay: TimeSpan.FromSeconds(30));
        await using var gateway = await StartAsync(("HealthProxy.PerTryTimeout", "00:00:00.300"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 6);

        Assert.All(served, s => Assert.Equal("a", s));
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("healthproxy_retries_total{", StringComparison.Ordinal) && l.Contains("reason=\"per_try_timeout\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PerTryTimeout_EveryInstanceSlow_ClientGets504()
    {
        var a = Add("a");
        var b = Add("b");
        a.FailWith(200, delay: TimeSpan.FromSeconds(30));
        b.FailWith(200, delay: TimeSpan.FromSeconds(30));
        await using var gateway = await StartAsync(("HealthProxy.PerTryTimeout", "00:00:00.200"));

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 2);

        Assert.All(served, s => Assert.Equal("HTTP 504", s));
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }


    private Dictionary<string, string?> Settings((string Name, string Address)[] others, params (string Key, string Value)[] cluster)
    {
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 100, others: others);
        settings["HealthProxy:OutlierDetection:FailureRatio"] = "0";
        foreach (var (key, value) in cluster)
        {
            settings[ClusterMetadata + key] = value;
        }

        return settings;
    }

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] cluster) => Settings([], cluster);

    private Task<GatewayHost> StartAsync(params (string Key, string Value)[] cluster) => StartAsync(Settings(cluster));

    private Task<GatewayHost> StartAsync((string Name, string Address)[] others, params (string Key, string Value)[] cluster) => StartAsync(Settings(others, cluster));

    private static async Task<GatewayHost> StartAsync(Dictionary<string, string?> settings)
    {
        var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        return gateway;
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }
}
