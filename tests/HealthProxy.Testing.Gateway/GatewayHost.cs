using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Testing.Gateway;

/// <summary>The real gateway on a real loopback socket (port 0), configured by the test.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private GatewayHost(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>Starts the gateway with <paramref name="settings"/>; <paramref name="configure"/> runs before AddHealthProxy (logging has no providers).</summary>
    public static async Task<GatewayHost> StartAsync(
        IDictionary<string, string?> settings, string? jsonFile = null, string url = "http://127.0.0.1:0", Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();

        // Tests stop hosts all the time; a test that measures the drain phase sets it back.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00" });
        if (jsonFile is not null)
        {
            builder.Configuration.AddJsonFile(jsonFile, optional: false, reloadOnChange: true);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        builder.AddHealthProxy();
        var app = builder.Build();
        app.MapHealthProxy();
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(10) };
        return new GatewayHost(app, client);
    }

    /// <summary>Waits until the gateway's startup probe passes (config loaded, first probes done).</summary>
    public async Task WaitStartedAsync() =>
        await Eventually.HoldsAsync(async () => (await Client.GetAsync("/health/startup")).IsSuccessStatusCode, "the gateway has started");

    /// <summary>
    /// Waits until the gateway judges each destination of <paramref name="clusterId"/> as given. On a busy
    /// machine a first probe can time out, so tests that start from known states wait for them first.
    /// </summary>
    public async Task WaitForStatesAsync(string clusterId, params (string Destination, HealthState State)[] expected)
    {
        var store = App.Services.GetRequiredService<InstanceHealthStore>();
        await Eventually.HoldsAsync(
            () => expected.All(e => store.Get(clusterId, e.Destination)?.State == e.State),
            "the gateway judged " + string.Join(", ", expected.Select(e => $"{e.Destination} {e.State}")));
    }

    /// <summary>
    /// Sends <paramref name="count"/> requests and returns the instances that answered, in order. A request carries a
    /// small JSON body when <paramref name="body"/> says so, by default when its method is neither GET nor HEAD.
    /// </summary>
    public async Task<List<string>> SendAsync(HttpMethod method, string path, int count, bool? body = null)
    {
        var servedBy = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body ?? (method != HttpMethod.Get && method != HttpMethod.Head))
            {
                request.Content = new StringContent("{}");
            }

            using var response = await Client.SendAsync(request);
            servedBy.Add(response.Headers.TryGetValues("X-Served-By", out var values) ? values.First() : $"HTTP {(int)response.StatusCode}");
        }

        return servedBy;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
