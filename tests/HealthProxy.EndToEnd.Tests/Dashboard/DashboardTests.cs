using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests.Dashboard;

/// <summary>The dashboard's locks, its token-for-cookie exchange and its live stream, over real sockets.</summary>
public sealed class DashboardTests : IDisposable
{
    private const string Token = "s3cret-dashboard-token";

    private readonly List<Backend> _backends = [];

    [Fact]
    public async Task Dashboard_NoTokenOrCookie_Unauthorized()
    {
        await using var gateway = await StartAsync();

        foreach (var path in new[] { "/dashboard", "/dashboard/events", "/dashboard/state", "/dashboard/dashboard.js", "/dashboard?token=wrong", "/dashboard?token=" })
        {
            using var response = await gateway.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Dashboard_NoTokenConfigured_NotFound()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewaySettings.For([Add("a")]));

        using var response = await gateway.Client.GetAsync("/dashboard?token=anything");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_CallerOutsideAllowlist_ForbiddenEvenWithToken()
    {
        var settings = GatewaySettings.For([Add("a")]);
        settings["HealthProxy:Security:DetailedToken"] = Token;
        settings["HealthProxy:Security:AllowedNetworks:0"] = "10.0.0.0/8";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.GetAsync("/dashboard?token=" + Token);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_TokenInQuery_ExchangedForHttpOnlyStrictCookieAndRedirectedWithoutToken()
    {
        await using var gateway = await StartAsync();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway.Client.BaseAddress };

        using var exchange = await client.GetAsync("/dashboard?token=" + Token);

        Assert.Equal(HttpStatusCode.Redirect, exchange.StatusCode);
        Assert.Equal("/dashboard", exchange.Headers.Location?.OriginalString);
        var setCookie = Assert.Single(exchange.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(DashboardSession.CookieName + "=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase); // plain HTTP here
        Assert.DoesNotContain(Token, setCookie, StringComparison.Ordinal);
        var cookie = setCookie.Split(';')[0];

        using var page = await GetWithCookieAsync(client, "/dashboard", cookie);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>HealthProxy dashboard</title>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        using var state = await GetWithCookieAsync(client, "/dashboard/state", cookie);
        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        Assert.Contains("\"svc\"", await state.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // One flipped signature character, or a signature moved to another expiry, is refused.
        var value = cookie[(DashboardSession.CookieName.Length + 1)..];
        var tampered = DashboardSession.CookieName + "=" + value[..^1] + (value[^1] == 'A' ? 'B' : 'A');
        using var refused = await GetWithCookieAsync(client, "/dashboard", tampered);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        var moved = DashboardSession.CookieName + "=" + (long.Parse(value[..dot], System.Globalization.CultureInfo.InvariantCulture) + 1) + value[dot..];
        using var refusedMoved = await GetWithCookieAsync(client, "/dashboard", moved);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedMoved.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ExpiredSession_Unauthorized()
    {
        await using var gateway = await StartAsync();
        var access = gateway.App.Services.GetRequiredService<HealthEndpointAccess>();
        var expired = DashboardSession.Create(access, DateTimeOffset.UtcNow.AddSeconds(-1));

        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = gateway.Client.BaseAddress };
        using var response = await GetWithCookieAsync(client, "/dashboard", DashboardSession.CookieName + "=" + expired);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("999999999999999999.AAAA")] // an expiry past DateTimeOffset.MaxValue
    [InlineData("253402300800.AAAA")] // one second past it
    [InlineData("9223372036854775807.AAAA")]
    [InlineData("99999999999999999999999.AAAA")] // past long
    [InlineData("1.")]
    [InlineData("..")]
    [InlineData("%00%ff.%ff")]
    public async Task Dashboard_CraftedCookie_UnauthorizedNeverAServerError(string value)
    {
        await using var gateway = await StartAsync();

        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = gateway.Client.BaseAddress };
        foreach (var path in new[] { "/dashboard", "/dashboard/state", "/dashboard/events" })
        {
            using var response = await GetWithCookieAsync(client, path, DashboardSession.CookieName + "=" + value);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Events_InstanceTurnsUnhealthy_StreamPushesTheNewStateWithinASecond()
    {
        var a = Add("a");
        await using var gateway = await StartAsync(a);
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);

        Assert.Equal("retry: " + DashboardEndpoints.RetryMilliseconds, await reader.ReadLineAsync(timeout.Token));
        var first = await NextStateAsync(reader, timeout.Token);
        Assert.Contains("{\"id\":\"a\",\"state\":\"healthy\"", first, StringComparison.Ordinal);

        a.SetState("unhealthy", 503);
        string pushed;
        do
        {
            pushed = await NextStateAsync(reader, timeout.Token);
        }
        while (!pushed.Contains("{\"id\":\"a\",\"state\":\"unhealthy\"", StringComparison.Ordinal));

        // The event log saw the transition that woke the stream, and the push followed it within a second.
        using var document = JsonDocument.Parse(pushed);
        var transition = document.RootElement.GetProperty("events").EnumerateArray()
            .First(e => e.GetProperty("kind").GetString() == "transition" && e.GetProperty("subject").GetString() == "svc/a");
        var latency = document.RootElement.GetProperty("generatedAt").GetDateTimeOffset() - transition.GetProperty("at").GetDateTimeOffset();
        Assert.InRange(latency, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task State_ConsulInstanceCritical_ShowsConsulSourceAndRegistryReachability()
    {
        await using var consul = await ConsulSimulator.StartAsync();
        var backend = Add("orders-a");
        consul.RegisterService(new SimulatedService
        {
            Name = "orders",
            ID = "orders-a",
            Address = "127.0.0.1",
            Port = new Uri(backend.Url).Port,
            Checks = [new SimulatedCheck { CheckID = "check-a", Status = "passing" }],
        });
        var settings = new Dictionary<string, string?>
        {
            ["HealthProxy:Security:DetailedToken"] = Token,
            ["HealthProxy:Consul:Address"] = consul.Address.ToString(),
            ["HealthProxy:Discovery:Wait"] = "00:00:02",
            ["ReverseProxy:Routes:all:ClusterId"] = "orders",
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Clusters:orders:Metadata:consul.service"] = "orders",
        };
        await using var gateway = await GatewayHost.StartAsync(settings);

        consul.SetCheckStatus("check-a", "critical");

        await Eventually.HoldsAsync(
            async () =>
            {
                using var state = JsonDocument.Parse(await StateAsync(gateway));
                var orders = state.RootElement.GetProperty("services").EnumerateArray().SingleOrDefault(s => s.GetProperty("name").GetString() == "orders");
                return orders.ValueKind == JsonValueKind.Object
                    && orders.GetProperty("registryService").GetString() == "orders"
                    && orders.GetProperty("instances").EnumerateArray().Any(i => i.GetProperty("state").GetString() == "unhealthy" && i.GetProperty("source").GetString() == "consul")
                    && state.RootElement.GetProperty("registry").EnumerateArray().Any(r =>
                        r.GetProperty("service").GetString() == "orders" && r.GetProperty("reachable").GetBoolean() && r.GetProperty("dataAgeSeconds").ValueKind == JsonValueKind.Number);
            },
            "the dashboard shows the Consul-sourced state and the registry's reachability");
    }

    private static async Task<string> StateAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/state");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await gateway.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Reads up to the next <c>state</c> event and returns its data.</summary>
    private static async Task<string> NextStateAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var isState = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line == "event: state")
            {
                isState = true;
            }
            else if (isState && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return line["data: ".Length..];
            }
        }

        throw new InvalidOperationException("The event stream ended.");
    }

    private static async Task<HttpResponseMessage> GetWithCookieAsync(HttpClient client, string path, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    private async Task<GatewayHost> StartAsync(Backend? backend = null)
    {
        var settings = GatewaySettings.For([backend ?? Add("a")]);
        settings["HealthProxy:Security:DetailedToken"] = Token;
        return await GatewayHost.StartAsync(settings);
    }

    private Backend Add(string name)
    {
        var backend = Backend.Start(name);
        _backends.Add(backend);
        return backend;
    }

    public void Dispose()
    {
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }
}
