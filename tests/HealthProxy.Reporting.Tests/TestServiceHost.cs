using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting.Tests;

/// <summary>A service using the reporting library on real Kestrel (127.0.0.1, port 0), with a <c>/work</c> endpoint.</summary>
internal sealed class TestServiceHost : IAsyncDisposable
{
    public const string ServiceName = "orders";

    private TestServiceHost(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IServiceLifecycle Lifecycle => App.Services.GetRequiredService<IServiceLifecycle>();

    public static async Task<TestServiceHost> StartAsync(Action<IHealthChecksBuilder, IServiceCollection> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var checks = builder.Services.AddServiceHealth(o => o.ServiceName = ServiceName);

        // No drain delay unless a test asks for one, so that stopping a host is quick.
        builder.Services.Configure<ServiceLifecycleOptions>(o => o.DrainDelay = TimeSpan.Zero);
        configure(checks, builder.Services);
        var app = builder.Build();
        try
        {
            app.MapServiceHealthEndpoints();
            app.MapGet("/work", () => Results.Text("done"));
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new TestServiceHost(app, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
