namespace HealthProxy.EndToEnd.Tests;

/// <summary>Safe retries end to end: reads move to another instance unseen; writes are retried only when they never left.</summary>
public sealed class RetryTests : IDisposable
{
    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task Reads_Backend503_RetriedElsewhereWithNoClientVisibleError()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.True(b.Received("GET") >= 4, $"b was tried (got {b.Received("GET")})");
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.Close)]
    [InlineData(BrokenBackend.BreakMode.Reset)]
    [InlineData(BrokenBackend.BreakMode.MalformedChunk)]
    public async Task Reads_BrokenConnection_RetriedElsewhereWithNoClientVisibleError(BrokenBackend.BreakMode mode)
    {
        Add("a");
        using var broken = new BrokenBackend(mode);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100, others: ("b", broken.Url)));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.All(served, s => Assert.Equal("a", s));
        Assert.True(broken.Received >= 4, $"b was tried (got {broken.Received})");
    }

    [Fact]
    public async Task Writes_Backend503_NotRetried()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503, "POST");
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Post, "/orders", 10);

        // Round robin: every second write went to b, exactly once each, and its failure reached the client.
        Assert.Equal(5, b.Received("POST"));
        Assert.Equal(5, served.Count(s => s == "a"));
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.Close)]
    [InlineData(BrokenBackend.BreakMode.Reset)]
    public async Task Writes_ConnectionBrokenAfterTheRequestWasSent_NotRetried(BrokenBackend.BreakMode mode)
    {
        var a = Add("a");
        using var broken = new BrokenBackend(mode);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100, others: ("b", broken.Url)));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Post, "/orders", 10);

        Assert.Equal(5, broken.Received);
        Assert.Equal(5, a.Received("POST"));
        Assert.Equal(5, served.Count(s => s != "a"));
    }

    [Fact]
    public async Task Writes_ConnectionRefused_RetriedElsewhere()
    {
        var a = Add("a");
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100, others: ("dead", ResilienceSettings.RefusingAddress())));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Post, "/orders", 10);

        // The refused attempt never started the body, so the retry sends it whole.
        Assert.All(served, s => Assert.Equal("a", s));
        Assert.Equal(10, a.Received("POST"));
        Assert.All(a.Server.LogEntries, e => Assert.Equal("{}", e.RequestMessage.Body));
    }

    [Fact]
    public async Task Reads_RetryBudgetSpent_FailuresReachTheClient()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503);
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 100);
        settings["HealthProxy:Retries:BudgetRatio"] = "0";
        settings["HealthProxy:Retries:MinRetriesPerSecond"] = "0";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "b"));
    }

    [Fact]
    public async Task ReadWithABody_Backend503_NotRetriedWithoutItsBody()
    {
        // POST /search is declared Read. Its body is streamed to b, so it cannot be sent to a again.
        var a = Add("a");
        var b = Add("b");
        b.FailWith(503, "POST");
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Post, "/search", 10);

        Assert.Equal(5, served.Count(s => s == "a"));
        Assert.Equal(5, served.Count(s => s == "b"));
        Assert.Equal(5, b.Received("POST"));
        Assert.All(a.Server.LogEntries, e => Assert.Equal("{}", e.RequestMessage.Body));
    }

    [Theory]
    [InlineData(BrokenBackend.BreakMode.Close)]
    [InlineData(BrokenBackend.BreakMode.Reset)]
    public async Task ReadWithABody_ConnectionBroken_NotRetriedWithoutItsBody(BrokenBackend.BreakMode mode)
    {
        var a = Add("a");
        using var broken = new BrokenBackend(mode);
        await using var gateway = await GatewayHost.StartAsync(ResilienceSettings.For(_backends, consecutiveFailures: 100, others: ("b", broken.Url)));
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Post, "/search", 10);

        Assert.Equal(5, broken.Received);
        Assert.Equal(5, a.Received("POST"));
        Assert.All(a.Server.LogEntries, e => Assert.Equal("{}", e.RequestMessage.Body));
        Assert.Equal(5, served.Count(s => s == "HTTP 502"));
    }

    [Fact]
    public async Task RouteOptedOutOfRetries_Backend503_ReachesTheClient()
    {
        Add("a");
        var b = Add("b");
        b.FailWith(503);
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 100);
        settings["ReverseProxy:Routes:all:Metadata:HealthProxy.Retries"] = "false";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        Assert.Equal(5, served.Count(s => s == "b"));
        Assert.Equal(5, b.Received("GET"));
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
