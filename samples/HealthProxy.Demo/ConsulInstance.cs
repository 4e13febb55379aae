using System.Net;
using HealthProxy.Reporting;
using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using HealthProxy.Reporting.Publishing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Demo;

/// <summary>
/// One instance of the sample "catalog" service built on the reporting library, as a real service would be: its
/// own health from a check, its lifecycle (starting until it is marked ready, draining when told), and publishing
/// to Consul with a TTL check. The gateway learns its state from Consul alone.
/// </summary>
internal sealed class ConsulInstance(string name, int port, Uri consul) : IAsyncDisposable
{
    private WebApplication? _app;
    private volatile HealthStatusBox _own = new(HealthStatus.Healthy);

    public string Name { get; } = name;

    /// <summary>What the instance's own check reports: healthy, degraded or unhealthy.</summary>
    public HealthStatus Own
    {
        get => _own.Value;
        set => _own = new HealthStatusBox(value);
    }

    /// <summary>starting, ready, draining or stopped.</summary>
    public ServiceLifecycleState Lifecycle => Services.GetRequiredService<IServiceLifecycle>().State;

    private IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("Not started.");

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http1));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = consul.ToString(),
            ["HealthProxy:Publishing:ServiceName"] = "catalog",
            ["HealthProxy:Publishing:ServiceId"] = $"catalog-{Name}",
            ["HealthProxy:Publishing:Address"] = "127.0.0.1",
            ["HealthProxy:Publishing:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // A short TTL and frequent updates, so a change shows within a second or two.
            ["HealthProxy:Publishing:Ttl"] = "00:00:06",
            ["HealthProxy:Publishing:UpdateInterval"] = "00:00:01",
        });
        builder.Services
            .AddServiceHealth(o => o.ServiceName = "catalog")
            .AddCheck("own", () => new HealthCheckResult(Own, "set by the demo"))
            .PublishToConsul(builder.Configuration);
        _app = builder.Build();
        _app.MapServiceHealthEndpoints();
        _app.MapFallback((HttpContext context) =>
        {
            context.Response.Headers["X-Served-By"] = Name;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($"{{\"servedBy\":\"{Name}\",\"method\":\"{context.Request.Method}\"}}");
        });
        await _app.StartAsync();
    }

    public bool MarkReady() => Services.GetRequiredService<IServiceLifecycle>().MarkReady();

    public bool BeginDraining() => Services.GetRequiredService<IServiceLifecycle>().BeginDraining();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record HealthStatusBox(HealthStatus Value);
}
