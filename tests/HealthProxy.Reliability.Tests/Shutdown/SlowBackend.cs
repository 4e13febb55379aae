using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reliability.Tests.Shutdown;

/// <summary>
/// A backend that answers <see cref="Path"/> with a large body written slowly, chunk by chunk, with a
/// Content-Length, so a response is in flight for a while and a cut one is detectable by length and content.
/// </summary>
internal sealed class SlowBackend : IAsyncDisposable
{
    public const string Path = "/slow";
    public const string HealthPath = "/health";

    private readonly WebApplication _app;

    private SlowBackend(WebApplication app, byte[] body)
    {
        _app = app;
        Body = body;
    }

    /// <summary>What every <see cref="Path"/> response carries, byte for byte.</summary>
    public byte[] Body { get; }

    public string Url => _app.Urls.First();

    /// <summary>Starts on a loopback port 0; each response sends <paramref name="chunks"/> chunks of <paramref name="chunkBytes"/>, <paramref name="interval"/> apart.</summary>
    public static async Task<SlowBackend> StartAsync(int chunks, int chunkBytes, TimeSpan interval)
    {
        var body = new byte[chunks * chunkBytes];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)(i % 251);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
        var app = builder.Build();
        app.MapGet(HealthPath, () => Results.Text("{\"status\":\"healthy\"}", "application/json"));
        app.MapGet(Path + "/{**rest}", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = body.Length;
            for (var offset = 0; offset < body.Length; offset += chunkBytes)
            {
                await context.Response.Body.WriteAsync(body.AsMemory(offset, chunkBytes), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);

                // The slowness under test, not a synchronisation.
                await Task.Delay(interval, context.RequestAborted);
            }
        });
        await app.StartAsync();
        return new SlowBackend(app, body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
