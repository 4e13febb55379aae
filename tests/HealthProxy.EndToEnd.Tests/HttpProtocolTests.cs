using System.Net;
using System.Net.WebSockets;
using System.Text;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>What docs/http.md says about protocols, WebSockets and body sizes, on a real gateway and real backends.</summary>
public sealed class HttpProtocolTests
{
    [Fact]
    public async Task H2cEndpoint_ClientWithPriorKnowledge_ProxiedOverHttp2()
    {
        using var backend = Backend.Start("a");
        var settings = GatewaySettings.For([backend]);
        settings["Kestrel:Endpoints:h2c:Url"] = "http://127.0.0.1:0";
        settings["Kestrel:Endpoints:h2c:Protocols"] = "Http2";
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var client = new HttpClient
        {
            BaseAddress = gateway.Client.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        await Eventually.HoldsAsync(async () => (await client.GetAsync("/health/startup")).IsSuccessStatusCode, "the gateway has started");

        using var response = await client.GetAsync("/items");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("a", response.Headers.GetValues("X-Served-By").Single());
    }

    [Fact]
    public async Task WebSocket_ThroughTheGateway_EchoesAndIsRoutedAsARead()
    {
        await using var healthy = await EchoBackend.StartAsync("healthy", HealthState.Healthy);
        await using var degraded = await EchoBackend.StartAsync("degraded", HealthState.Degraded);
        await using var gateway = await GatewayHost.StartAsync(Settings(healthy.Url, degraded.Url));
        await gateway.WaitForStatesAsync("ws", ("healthy", HealthState.Healthy), ("degraded", HealthState.Degraded));
        var wsUri = new UriBuilder(gateway.Client.BaseAddress!) { Scheme = "ws", Path = "/ws" }.Uri;

        var servedBy = new HashSet<string>();
        for (var i = 0; i < 40 && servedBy.Count < 2; i++)
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(wsUri, CancellationToken.None);
            await socket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            var buffer = new byte[256];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            var answer = Encoding.UTF8.GetString(buffer, 0, received.Count);
            Assert.EndsWith(":ping", answer, StringComparison.Ordinal);
            servedBy.Add(answer.Split(':')[0]);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        // An upgrade is a GET: a degraded instance takes sessions too, at its (smaller) weight.
        Assert.Equal(["degraded", "healthy"], servedBy.Order());
    }

    [Fact]
    public async Task RouteMaxRequestBodySize_BodyOverTheLimit_413AndNotAnsweredByTheInstance()
    {
        using var backend = Backend.Start("a");
        var settings = GatewaySettings.For([backend]);
        settings["ReverseProxy:Routes:all:MaxRequestBodySize"] = "1024";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();

        using var small = await gateway.Client.PostAsync("/upload", new ByteArrayContent(new byte[512]));
        using var large = await gateway.Client.PostAsync("/upload", new ByteArrayContent(new byte[4096]));

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(1, backend.Received("POST"));
    }

    private static Dictionary<string, string?> Settings(string healthy, string degraded) => new()
    {
        ["ReverseProxy:Routes:ws:ClusterId"] = "ws",
        ["ReverseProxy:Routes:ws:Match:Path"] = "/ws",
        ["ReverseProxy:Clusters:ws:HealthCheck:Active:Enabled"] = "true",
        ["ReverseProxy:Clusters:ws:HealthCheck:Active:Interval"] = "00:00:01",
        ["ReverseProxy:Clusters:ws:HealthCheck:Active:Path"] = "/health",
        // Equal shares, so a few dozen sessions reach both (the default 0.2 would make that a matter of luck).
        ["ReverseProxy:Clusters:ws:Metadata:HealthProxy.DegradedWeight"] = "1",
        ["ReverseProxy:Clusters:ws:Destinations:healthy:Address"] = healthy,
        ["ReverseProxy:Clusters:ws:Destinations:degraded:Address"] = degraded,
    };

    /// <summary>A Kestrel backend that echoes WebSocket messages prefixed with its name, and reports a fixed state.</summary>
    private sealed class EchoBackend(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url { get; } = url;

        public static async Task<EchoBackend> StartAsync(string name, HealthState state)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.UseWebSockets();
            app.MapGet("/health", () => Results.Text(StatusDocumentJson.Write(new StatusDocument { Status = state }), "application/json"));
            app.Map("/ws", async (HttpContext context) =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[256];
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                var reply = Encoding.UTF8.GetBytes($"{name}:{Encoding.UTF8.GetString(buffer, 0, received.Count)}");
                await socket.SendAsync(reply, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
                await socket.ReceiveAsync(buffer, context.RequestAborted);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", context.RequestAborted);
            });
            await app.StartAsync();
            return new EchoBackend(app, app.Urls.First() + "/");
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
