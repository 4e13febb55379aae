using HealthProxy.Testing;
using HealthProxy.Testing.Gateway;
using Microsoft.Extensions.Logging;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// What a backend sees of trace context. With request logging off and no tracer, the gateway starts no Activity:
/// a caller's traceparent is forwarded as sent and none is made up. With request logging on, ASP.NET Core starts
/// one per request as it always has, and YARP propagates it. Nothing in this test process listens for activities
/// (an ActivityListener, a tracer): one would make Hosting start an Activity per request whatever the log levels,
/// so these run in the serial collection, apart from the tracing tests' tracer.
/// </summary>
[Collection(SerialObservability.Name)]
public sealed class TraceContextTests : IDisposable
{
    private const string CallerTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private readonly Backend _backend = Backend.Start("a");

    [Fact]
    public async Task RequestLogsOff_NoTraceparentSent_NoneAdded()
    {
        await using var gateway = await StartAsync(aspNetCoreLevel: null);

        var seen = await ProxyAsync(gateway, traceparent: null);

        Assert.Null(seen);
    }

    [Fact]
    public async Task RequestLogsOff_CallersTraceparent_ForwardedAsSent()
    {
        await using var gateway = await StartAsync(aspNetCoreLevel: null);

        var seen = await ProxyAsync(gateway, CallerTraceparent);

        Assert.Equal(CallerTraceparent, seen);
    }

    [Fact]
    public async Task RequestLogsOn_CallersTraceparent_ContinuedByTheGatewaysOwnSpan()
    {
        await using var gateway = await StartAsync(aspNetCoreLevel: "Information");

        var seen = await ProxyAsync(gateway, CallerTraceparent);

        Assert.NotNull(seen);
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", seen, StringComparison.Ordinal);
        Assert.NotEqual(CallerTraceparent, seen);
    }

    public void Dispose() => _backend.Dispose();

    private Task<GatewayHost> StartAsync(string? aspNetCoreLevel)
    {
        var settings = GatewaySettings.For([_backend]);
        settings["Logging:LogLevel:Default"] = "Warning";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = aspNetCoreLevel;
        return GatewayHost.StartAsync(settings, configure: builder => builder.Logging.AddProvider(new SilentLoggerProvider()));
    }

    private async Task<string?> ProxyAsync(GatewayHost gateway, string? traceparent)
    {
        await gateway.WaitStartedAsync();
        _backend.ResetCounts();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items");
        if (traceparent is not null)
        {
            request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        }

        using var response = await gateway.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var entry = Assert.Single(_backend.Server.LogEntries, e => e.RequestMessage.Path == "/items");
        var headers = entry.RequestMessage.Headers ?? new Dictionary<string, WireMock.Types.WireMockList<string>>();
        return headers.FirstOrDefault(h => string.Equals(h.Key, "traceparent", StringComparison.OrdinalIgnoreCase)).Value?.ToString();
    }
}
