using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Reliability.Tests.Soak;

/// <summary>
/// A lean backend for long runs (WireMock keeps every request in its log): <c>/health</c> answers as set,
/// and every other request answers 200 with its name in <c>X-Served-By</c>, except a given share that
/// answers 500 marked <c>X-Injected-Failure</c>.
/// </summary>
public sealed class SoakBackend : IAsyncDisposable
{
    public const string HealthPath = "/health";
    public const string InjectedHeader = "X-Injected-Failure";

    private readonly WebApplication _app;
    private readonly double _failureRatio;
    private volatile bool _healthy = true;
    private long _served;
    private long _injected;

    private SoakBackend(string name, double failureRatio, WebApplication app)
    {
        Name = name;
        _failureRatio = failureRatio;
        _app = app;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public long Served => Interlocked.Read(ref _served);

    public long Injected => Interlocked.Read(ref _injected);

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public static async Task<SoakBackend> StartAsync(string name, double failureRatio)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var backend = new SoakBackend(name, failureRatio, app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        backend.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        if (context.Request.Path == HealthPath)
        {
            var healthy = _healthy;
            response.StatusCode = healthy ? 200 : 503;
            response.ContentType = "application/json";
            await response.WriteAsync(healthy ? "{\"status\":\"healthy\"}" : "{\"status\":\"unhealthy\"}");
            return;
        }

        await context.Request.Body.CopyToAsync(Stream.Null);
        Interlocked.Increment(ref _served);
        response.Headers["X-Served-By"] = Name;
        if (Random.Shared.NextDouble() < _failureRatio)
        {
            Interlocked.Increment(ref _injected);
            response.StatusCode = 500;
            response.Headers[InjectedHeader] = "true";
            await response.WriteAsync(Name + " failed on purpose");
            return;
        }

        await response.WriteAsync(Name);
    }
}
