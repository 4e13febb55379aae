using System.Net;
using HealthProxy.Health;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HealthProxy.Demo;

/// <summary>
/// One instance of the sample "catalog" service: it answers every request with its name in
/// <c>X-Served-By</c>, and reports the state it is told to be in at <c>/health/ready</c>, the way
/// the reporting library's endpoint does.
/// </summary>
internal sealed class SampleInstance(string name, int port) : IAsyncDisposable
{
    private WebApplication? _app;
    private volatile StateBox _state = new(HealthState.Healthy);

    public string Name { get; } = name;

    public int Port { get; } = port;

    public HealthState State
    {
        get => _state.Value;
        set => _state = new StateBox(value);
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, o => o.Protocols = HttpProtocols.Http1));
        _app = builder.Build();
        _app.MapGet("/health/ready", (HttpContext context) =>
        {
            var state = State;
            var body = StatusDocumentJson.Write(new StatusDocument { Status = state, Service = "catalog" });
            context.Response.StatusCode = state.Accepts(RequestKind.Read) ? 200 : 503;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(body);
        });
        _app.MapFallback((HttpContext context) =>
        {
            context.Response.Headers["X-Served-By"] = Name;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync($"{{\"servedBy\":\"{Name}\",\"method\":\"{context.Request.Method}\",\"path\":\"{context.Request.Path}\"}}");
        });
        await _app.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private sealed record StateBox(HealthState Value);
}
