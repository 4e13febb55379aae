using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>The aggregated views, the blast radius and the locks on the health endpoints, over real sockets.</summary>
public sealed class HealthViewsTests : IDisposable
{
    private const string Token = "s3cret-detailed-token";

    /// <summary>The article's example: each service and what it depends on.</summary>
    private static readonly Dictionary<string, string> Article = new()
    {
        ["payment"] = "",
        ["checkout"] = "payment",
        ["cart"] = "checkout",
        ["storefront"] = "cart",
        ["order-history"] = "payment",
        ["analytics"] = "payment",
    };

    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task Detailed_PaymentDown_ShowsEveryDependentAffectedAndCountsOneCascade()
    {
        var payment = Add("payment-a");
        var shared = Add("shared-a");
        await using var gateway = await GatewayHost.StartAsync(ArticleSettings(payment, shared));
        await gateway.WaitStartedAsync();
        var factory = gateway.App.Services.GetRequiredService<IMeterFactory>();
        long cascades = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "healthproxy.cascading_failures" && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref cascades, value));
        listener.Start();

        payment.SetState("unhealthy", 503);
        await Eventually.HoldsAsync(async () => (await DetailedAsync(gateway)).GetProperty("cascades").GetArrayLength() == 1, "payment's failure shows as a cascade");

        var detailed = await DetailedAsync(gateway);
        var cascade = detailed.GetProperty("cascades")[0];
        Assert.Equal("payment", cascade.GetProperty("root").GetString());
        Assert.Equal(
            ["analytics", "cart", "checkout", "order-history", "storefront"],
            cascade.GetProperty("affected").EnumerateArray().Select(a => a.GetString()!).Order(StringComparer.Ordinal));
        var services = detailed.GetProperty("services");
        Assert.Equal("unhealthy", services.GetProperty("payment").GetProperty("status").GetString());
        Assert.False(services.GetProperty("payment").GetProperty("potentiallyAffected").GetBoolean());
        Assert.True(services.GetProperty("storefront").GetProperty("potentiallyAffected").GetBoolean());
        Assert.Equal("payment", services.GetProperty("storefront").GetProperty("affectedBy")[0].GetString());
        Assert.Equal("healthy", services.GetProperty("storefront").GetProperty("status").GetString());
        Assert.Equal(["cart"], services.GetProperty("storefront").GetProperty("dependsOn").EnumerateArray().Select(e => e.GetString()));
        var destination = services.GetProperty("payment").GetProperty("destinations").GetProperty("payment-a");
        Assert.Equal("unhealthy", destination.GetProperty("state").GetString());
        Assert.Equal("probe", destination.GetProperty("source").GetString());
        Assert.True(destination.TryGetProperty("since", out _));
        Assert.Equal("unhealthy", detailed.GetProperty("categories").GetProperty("payments").GetProperty("status").GetString());
        Assert.Equal("degraded", detailed.GetProperty("overall").GetProperty("status").GetString());
        Assert.Equal(["payment"], detailed.GetProperty("graph").GetProperty("checkout").EnumerateArray().Select(e => e.GetString()));
        await Eventually.HoldsAsync(() => Interlocked.Read(ref cascades) == 1, "one cascading failure was counted");

        payment.SetState("healthy");
        await Eventually.HoldsAsync(async () => (await DetailedAsync(gateway)).GetProperty("cascades").GetArrayLength() == 0, "payment recovered");
        Assert.Equal(1, Interlocked.Read(ref cascades));
    }

    [Fact]
    public async Task Detailed_Token_RequiredAndComparedExactly()
    {
        var settings = GatewaySettings.For([Add("a")]);
        settings["HealthProxy:Security:DetailedToken"] = Token;
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(gateway, "/health/detailed", token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(gateway, "/health/detailed", token: "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(gateway, "/health/detailed", token: Token + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(gateway, "/health/detailed", token: Token[..^1])).StatusCode);
        var right = await GetAsync(gateway, "/health/detailed", token: Token);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        var body = await right.Content.ReadAsStringAsync();
        Assert.Contains("\"svc\"", body, StringComparison.Ordinal);

        // Destination ids, never addresses.
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain(new Uri(_backends[0].Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detailed_NoTokenConfigured_NotFound()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewaySettings.For([Add("a")]));
        await gateway.WaitStartedAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(gateway, "/health/detailed", token: "anything")).StatusCode);
    }

    [Fact]
    public async Task Allowlist_SpoofedForwardedForFromUntrustedPeer_Denied()
    {
        var settings = GatewaySettings.For([Add("a")]);
        settings["HealthProxy:Security:AllowedNetworks:0"] = "10.0.0.0/8";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Add("X-Forwarded-For", "10.1.2.3");
        var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.Client.GetAsync("/health/live")).StatusCode);

        // Proxied traffic is not a health endpoint: untouched by the allowlist.
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/items")).StatusCode);
    }

    [Fact]
    public async Task Allowlist_ForwardedForFromTrustedProxy_Believed()
    {
        var settings = GatewaySettings.For([Add("a")]);
        settings["HealthProxy:Security:AllowedNetworks:0"] = "10.0.0.0/8";
        settings["HealthProxy:Security:TrustedProxies:0"] = "127.0.0.1";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var inside = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        inside.Headers.Add("X-Forwarded-For", "10.1.2.3");
        using var outside = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        outside.Headers.Add("X-Forwarded-For", "192.0.2.7");

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(inside)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.Client.SendAsync(outside)).StatusCode);
    }

    [Fact]
    public async Task Allowlist_CallerInAllowedNetwork_Served()
    {
        var settings = GatewaySettings.For([Add("a")]);
        settings["HealthProxy:Security:AllowedNetworks:0"] = "127.0.0.0/8";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        // The first probe of a fresh backend may fail on a loaded machine; the next one brings it back.
        await Eventually.HoldsAsync(async () => (await gateway.Client.GetAsync("/health")).StatusCode == HttpStatusCode.OK, "an allowed caller is served");
    }

    [Fact]
    public async Task PublicResponses_NeverCarryNamesAddressesOrExceptionText()
    {
        var payment = Add("payment-a");
        var shared = Add("shared-a");
        await using var gateway = await GatewayHost.StartAsync(ArticleSettings(payment, shared));
        await gateway.WaitStartedAsync();
        payment.SetHealth(500, "System.InvalidOperationException: boom at Payment.Db.Connect() 10.9.8.7");
        await Eventually.HoldsAsync(async () => (await gateway.Client.GetAsync("/health")).StatusCode == HttpStatusCode.OK
            && (await (await gateway.Client.GetAsync("/health")).Content.ReadAsStringAsync()).Contains("degraded", StringComparison.Ordinal), "the overall view is degraded");

        var forbidden = new[] { "127.0.0.1", "localhost", "10.9.8.7", "Exception", "boom", " at ", "payment", "checkout", "shared-a", "svc" }
            .Concat(_backends.Select(b => new Uri(b.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        var bodies = new List<(string Path, string Body)>();
        foreach (var path in new[] { "/health", "/health/live", "/health/ready", "/health/startup", "/health/detailed" })
        {
            var response = await gateway.Client.GetAsync(path);
            bodies.Add((path, await response.Content.ReadAsStringAsync() + string.Join("\n", response.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}"))));
        }

        bodies.Add(("/health/detailed (wrong token)", await (await GetAsync(gateway, "/health/detailed", "nope")).Content.ReadAsStringAsync()));
        foreach (var (path, body) in bodies)
        {
            foreach (var secret in forbidden)
            {
                Assert.False(body.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{path} leaks '{secret}': {body}");
            }
        }

        // The detailed view names services (it is for operators) but never addresses or exception text.
        var detailed = await (await GetAsync(gateway, "/health/detailed", Token)).Content.ReadAsStringAsync();
        foreach (var secret in new[] { "127.0.0.1", "10.9.8.7", "Exception", "boom" }.Concat(forbidden.Skip(10)))
        {
            Assert.False(detailed.Contains(secret, StringComparison.Ordinal), $"detailed view leaks '{secret}'");
        }
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    private static async Task<JsonElement> DetailedAsync(GatewayHost gateway)
    {
        var response = await GetAsync(gateway, "/health/detailed", Token);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> GetAsync(GatewayHost gateway, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await gateway.Client.SendAsync(request);
    }

    /// <summary>Six clusters as in the article; payment has its own instance, the others share one. Detailed view on.</summary>
    private static Dictionary<string, string?> ArticleSettings(Backend payment, Backend shared)
    {
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:Probes:UnhealthyThreshold"] = "1",
            ["HealthProxy:Security:DetailedToken"] = Token,
        };
        foreach (var (cluster, dependsOn) in Article)
        {
            var backend = cluster == "payment" ? payment : shared;
            settings[$"ReverseProxy:Routes:{cluster}:ClusterId"] = cluster;
            settings[$"ReverseProxy:Routes:{cluster}:Match:Path"] = $"/{cluster}/{{**rest}}";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled"] = "true";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Interval"] = "00:00:00.200";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Timeout"] = "00:00:01";
            settings[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Path"] = Backend.HealthPath;
            settings[$"ReverseProxy:Clusters:{cluster}:Metadata:HealthProxy.Category"] = cluster is "payment" or "checkout" ? "payments" : "shop";
            settings[$"ReverseProxy:Clusters:{cluster}:Metadata:HealthProxy.DependsOn"] = dependsOn;
            settings[$"ReverseProxy:Clusters:{cluster}:Destinations:{backend.Name}:Address"] = backend.Url;
        }

        return settings;
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }
}
