using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>A real Prometheus scrapes a real gateway's management port; health series follow the backends.</summary>
[Collection(SerialObservability.Name)]
public sealed class PrometheusScrapeTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task Scrape_BackendTurnsUnhealthy_HealthSeriesFollow()
    {
        _backends.AddRange([Backend.Start("a"), Backend.Start("b"), Backend.Start("c")]);
        var metricsPort = Tooling.FreePort();
        var settings = GatewaySettings.For(_backends);
        settings["HealthProxy:Metrics:Port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["HealthProxy:Metrics:Host"] = "127.0.0.1";
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Metadata:HealthProxy.Critical"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        Assert.Equal(["a", "b", "c"], (await gateway.SendAsync(HttpMethod.Get, "/items", 3)).Order());
        await using var prometheus = PrometheusServer.Start($"127.0.0.1:{metricsPort}", Tooling.RepoPath("config", "alerts.yml"));

        await Eventually.HoldsAsync(async () => await prometheus.TargetHealthAsync() == "up", "Prometheus reports the gateway target up", Deadline);
        Assert.Contains("HealthProxyCriticalServiceUnhealthy", await prometheus.AlertRuleNamesAsync());
        await WaitForAsync(prometheus, "healthproxy_instances{cluster=\"svc\",state=\"healthy\"}", 3);
        await WaitForAsync(prometheus, "healthproxy_service_health{service=\"svc\",critical=\"true\"}", 1);
        await WaitForAsync(prometheus, "sum(http_server_request_duration_seconds_count{cluster=\"svc\",route=\"all\",request_kind=\"read\",http_response_status_code=\"200\"})", 3);

        // One of three down: degraded (still serving), and the degraded clock runs.
        _backends[2].SetState("unhealthy", 503);
        await WaitForAsync(prometheus, "healthproxy_instances{cluster=\"svc\",state=\"unhealthy\"}", 1);
        await WaitForAsync(prometheus, "healthproxy_instances{cluster=\"svc\",state=\"healthy\"}", 2);
        await Eventually.HoldsAsync(
            async () => await prometheus.QueryAsync("healthproxy_service_degraded_time_seconds_total{service=\"svc\"}") > 0, "degraded time is counted", Deadline);

        // Two of three down: one instance still takes every request, so the service still serves.
        _backends[1].SetState("unhealthy", 503);
        await WaitForAsync(prometheus, "healthproxy_instances{cluster=\"svc\",state=\"unhealthy\"}", 2);
        await WaitForAsync(prometheus, "healthproxy_service_health{service=\"svc\"}", 1);

        // All down: the service cannot serve.
        _backends[0].SetState("unhealthy", 503);
        await WaitForAsync(prometheus, "healthproxy_service_health{service=\"svc\"}", 0);
        await WaitForAsync(prometheus, "sum(healthproxy_instance_transitions_total{cluster=\"svc\",state=\"unhealthy\"})", 3);
    }

    [Fact]
    public async Task ManagementPort_Set_MetricsOnlyThereAndNothingElseThere()
    {
        _backends.Add(Backend.Start("a"));
        var metricsPort = Tooling.FreePort();
        var settings = GatewaySettings.For(_backends);
        settings["HealthProxy:Metrics:Port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["HealthProxy:Metrics:Host"] = "127.0.0.1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };

        var scrape = await management.GetStringAsync("/metrics");
        using var onMainPort = await gateway.Client.GetAsync("/metrics");
        using var healthOnManagement = await management.GetAsync("/health/live");
        using var proxyOnManagement = await management.GetAsync("/items");

        Assert.Contains("healthproxy_instances{", scrape, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("healthproxy_", await onMainPort.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, healthOnManagement.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, proxyOnManagement.StatusCode);
        Assert.DoesNotContain(_backends[0].Server.LogEntries, e => e.RequestMessage.Path == "/items");
    }

    [Fact]
    public async Task MetricsPath_NoManagementPort_ServedOnMainPortBeforeTheProxy()
    {
        _backends.Add(Backend.Start("a"));
        await using var gateway = await GatewayHost.StartAsync(GatewaySettings.For(_backends));
        await gateway.WaitStartedAsync();

        var scrape = await gateway.Client.GetStringAsync("/metrics");

        Assert.Contains("healthproxy_service_health{", scrape, StringComparison.Ordinal);
        Assert.Equal(0, _backends[0].Received("GET"));
    }

    [Fact]
    public async Task HttpClientMeter_Default_NotExported()
    {
        _backends.Add(Backend.Start("a"));
        await using var gateway = await GatewayHost.StartAsync(GatewaySettings.For(_backends));
        await gateway.WaitStartedAsync();

        Assert.Equal(["a"], await gateway.SendAsync(HttpMethod.Get, "/items", 1));
        var scrape = await gateway.Client.GetStringAsync("/metrics");

        Assert.True(HasSeries(scrape, "http_server_request_duration_seconds_count{", "cluster=\"svc\"", "request_kind=\"read\"", "route=\"all\""), scrape);
        Assert.DoesNotContain("healthproxy_request_duration_seconds", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("http_client_", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacyRequestDuration_On_OldHistogramRecordedBesideHostings()
    {
        _backends.Add(Backend.Start("a"));
        var settings = GatewaySettings.For(_backends);
        settings["HealthProxy:Metrics:LegacyRequestDuration"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        Assert.Equal(["a"], await gateway.SendAsync(HttpMethod.Get, "/items", 1));
        var scrape = await gateway.Client.GetStringAsync("/metrics");

        Assert.True(HasSeries(scrape, "healthproxy_request_duration_seconds_count{", "cluster=\"svc\"", "outcome=\"2xx\""), scrape);
        Assert.Contains("http_server_request_duration_seconds_count{", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpClientMeter_Enabled_ExportedWithoutAddresses()
    {
        _backends.Add(Backend.Start("a"));
        var settings = GatewaySettings.For(_backends);
        settings["HealthProxy:Metrics:HttpClientMeter"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        // A POST: the gateway's own probes are GETs, so a POST series can only be the forwarded request.
        Assert.Equal(["a"], await gateway.SendAsync(HttpMethod.Post, "/items", 1));
        List<string> client = [];
        await Eventually.HoldsAsync(
            async () =>
            {
                client = [.. (await gateway.Client.GetStringAsync("/metrics")).Split('\n').Where(line => line.StartsWith("http_client_", StringComparison.Ordinal))];
                return client.Any(line => line.StartsWith("http_client_request_duration_seconds_count{", StringComparison.Ordinal)
                    && line.Contains("http_request_method=\"POST\"", StringComparison.Ordinal));
            },
            "the forwarded request is counted by System.Net.Http's meter");

        // Only the client series: the backend's Kestrel runs in this test process and its server-side series name its own address.
        Assert.DoesNotContain(client, line => line.Contains("server_address", StringComparison.Ordinal) || line.Contains("server_port", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private static Task WaitForAsync(PrometheusServer prometheus, string promql, double expected) =>
        Eventually.HoldsAsync(async () => await prometheus.QueryAsync(promql) == expected, $"Prometheus answers {expected} for {promql}", Deadline);

    private static bool HasSeries(string scrape, string prefix, params string[] labels) =>
        scrape.Split('\n').Any(line => line.StartsWith(prefix, StringComparison.Ordinal) && labels.All(label => line.Contains(label, StringComparison.Ordinal)));
}
