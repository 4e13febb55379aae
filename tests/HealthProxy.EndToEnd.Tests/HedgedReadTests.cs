using System.Diagnostics;
using HealthProxy.Testing.Gateway;
using Xunit.Abstractions;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// Hedged reads end to end (<c>HealthProxy.HedgeDelay</c>): with one instance answering after seconds and one at once,
/// every read is answered by the fast one, writes are never hedged, and the hedges are counted. Serial: they read
/// the gateway's /metrics, which would show a parallel test's gateway too.
/// </summary>
[Collection(Observability.SerialObservability.Name)]
public sealed class HedgedReadTests(ITestOutputHelper output) : IDisposable
{
    private const string RouteMetadata = "ReverseProxy:Routes:all:Metadata:";
    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task HedgeDelay_OneInstanceSlow_EveryReadAnsweredByTheFastOneAndWinsCounted()
    {
        Add("fast");
        var slow = Add("slow");
        slow.FailWith(200, delay: TimeSpan.FromSeconds(2));
        await using var gateway = await StartAsync("00:00:00.100");

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 10);

        // A read the slow instance got first is cancelled there, so only the gateway's count shows it was hedged.
        Assert.All(served, s => Assert.Equal("fast", s));
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("healthproxy_hedges_total{", StringComparison.Ordinal) && l.Contains("outcome=\"won\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("DELETE", false)]
    public async Task HedgeDelay_WritesToTheSlowInstance_NeverHedgedAndAnsweredByIt(string method, bool body)
    {
        var fast = Add("fast");
        var slow = Add("slow");
        slow.FailWith(200, delay: TimeSpan.FromSeconds(2));
        await using var gateway = await StartAsync("00:00:00.100");

        var served = await gateway.SendAsync(new HttpMethod(method), "/orders", 4, body);

        Assert.True(slow.Received(method) >= 1, "some writes went to the slow instance");
        Assert.Equal(slow.Received(method), served.Count(s => s == "slow"));
        Assert.Equal(4, fast.Received(method) + slow.Received(method));
        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.DoesNotContain(metrics.Split('\n'), l => l.StartsWith("healthproxy_hedges_total{", StringComparison.Ordinal));
    }

    /// <summary>A measured run: p50 and p99 of 50 reads with and without hedging are printed, not asserted.</summary>
    [Fact]
    public async Task HedgeDelay_FiftyReadsAgainstASlowInstance_PrintsLatencyWithAndWithout()
    {
        Add("fast");
        var slow = Add("slow");
        slow.FailWith(200, delay: TimeSpan.FromMilliseconds(300));

        await using (var plain = await StartAsync(hedgeDelay: null))
        {
            var (served, p50, p99) = await MeasureAsync(plain, 50);
            Assert.Contains("slow", served);
            output.WriteLine($"without hedging: p50 {p50:F1} ms, p99 {p99:F1} ms");
        }

        await using (var hedged = await StartAsync("00:00:00.050"))
        {
            var (served, p50, p99) = await MeasureAsync(hedged, 50);
            Assert.All(served, s => Assert.Equal("fast", s));
            output.WriteLine($"with HedgeDelay 50 ms: p50 {p50:F1} ms, p99 {p99:F1} ms");
        }
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private static async Task<(List<string> Served, double P50, double P99)> MeasureAsync(GatewayHost gateway, int count)
    {
        _ = await gateway.SendAsync(HttpMethod.Get, "/items", 2);
        var served = new List<string>(count);
        var latencies = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            served.AddRange(await gateway.SendAsync(HttpMethod.Get, "/items", 1));
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        latencies.Sort();
        return (served, latencies[(int)(0.50 * (count - 1))], latencies[(int)Math.Ceiling(0.99 * (count - 1))]);
    }


    private async Task<GatewayHost> StartAsync(string? hedgeDelay)
    {
        var settings = ResilienceSettings.For(_backends, consecutiveFailures: 100);
        settings["HealthProxy:OutlierDetection:FailureRatio"] = "0";
        if (hedgeDelay is not null)
        {
            settings[RouteMetadata + "HealthProxy.HedgeDelay"] = hedgeDelay;
        }

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
