using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting.Tests.Checks;

/// <summary>A downstream service on real Kestrel (port 0): <c>/ok</c> 200, <c>/fail</c> 500, <c>/slow</c> never answers.</summary>
internal sealed class TestDownstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestDownstream(WebApplication app) => _app = app;

    public Uri Address(string path) => new(new Uri(_app.Urls.First()), path);

    public static async Task<TestDownstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/ok", () => Results.Ok());
        app.MapGet("/fail", () => Results.StatusCode(StatusCodes.Status500InternalServerError));
        app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
            return Results.Ok();
        });
        await app.StartAsync();
        return new TestDownstream(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
