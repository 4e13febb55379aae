using System.Net;
using HealthProxy.Consul;
using HealthProxy.Consul.Api;
using HealthProxy.Consul.Simulator;
using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using HealthProxy.Reporting.Publishing;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Reporting.Tests.Publishing;

/// <summary>
/// A service publishing to a <see cref="ConsulSimulator"/>, both on real Kestrel (127.0.0.1, port 0), with two fake
/// clocks: <see cref="HostTime"/> drives the publisher's intervals, backoff and the drain delay,
/// <see cref="ConsulTime"/> the simulator's TTL expiry and reaper, so each moves only when a test says so.
/// </summary>
internal sealed class PublishingHost : IAsyncDisposable
{
    public const string ServiceId = "orders-1";
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static readonly DateTimeOffset Start = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private bool _crashed;

    private PublishingHost(ConsulSimulator consul, FakeTimeProvider consulTime, FakeTimeProvider hostTime, WebApplication app, TestHealth health)
    {
        Health = health;
        Consul = consul;
        ConsulTime = consulTime;
        HostTime = hostTime;
        App = app;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        ConsulClient = new ConsulClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, new ConsulClientOptions { Address = consul.Address });
    }

    public ConsulSimulator Consul { get; }

    public FakeTimeProvider ConsulTime { get; }

    public FakeTimeProvider HostTime { get; }

    public WebApplication App { get; }

    /// <summary>Calls the service.</summary>
    public HttpClient Client { get; }

    /// <summary>Reads the simulator the way the gateway does.</summary>
    public ConsulClient ConsulClient { get; }

    /// <summary>The health the default checks report.</summary>
    public TestHealth Health { get; }

    public IServiceLifecycle Lifecycle => App.Services.GetRequiredService<IServiceLifecycle>();

    public ConsulPublisher Publisher => App.Services.GetServices<IHostedService>().OfType<ConsulPublisher>().Single();

    public int ServicePort => new Uri(App.Urls.First()).Port;

    public static async Task<PublishingHost> StartAsync(
        Action<ConsulPublishingOptions>? configure = null,
        Action<IHealthChecksBuilder>? checks = null,
        TimeSpan? drainDelay = null)
    {
        var consulTime = new FakeTimeProvider(Start);
        var hostTime = new FakeTimeProvider(Start);
        var consul = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { TimeProvider = consulTime });
        var health = new TestHealth();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HealthProxy:Consul:Address"] = consul.Address.ToString(),

            // The host's clock is fake and tests advance it in big steps: no request may time out on it.
            ["HealthProxy:Consul:RequestTimeout"] = "1.00:00:00",
        });
        builder.Services.AddSingleton<TimeProvider>(hostTime);
        var healthChecks = builder.Services.AddServiceHealth(o => o.ServiceName = TestServiceHost.ServiceName);
        builder.Services.Configure<ServiceLifecycleOptions>(o => o.DrainDelay = drainDelay ?? TimeSpan.Zero);
        healthChecks.PublishToConsul(builder.Configuration, o =>
        {
            o.ServiceId = ServiceId;
            o.Address = "127.0.0.1";
            o.Ttl = Ttl;
            o.Jitter = 0;
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.MaxRetryDelay = Interval;
            configure?.Invoke(o);
        });
        if (checks is null)
        {
            health.AddTo(healthChecks);
        }
        else
        {
            checks(healthChecks);
        }

        var app = builder.Build();
        app.MapServiceHealthEndpoints();
        app.MapGet("/work", () => Results.Text("done"));
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            await consul.DisposeAsync();
            throw;
        }

        return new PublishingHost(consul, consulTime, hostTime, app, health);
    }

    /// <summary>This service's instance in the simulator, or <see langword="null"/> when it is not registered.</summary>
    public async Task<ConsulServiceEntry?> EntryAsync()
    {
        var entries = (await ConsulClient.GetHealthServiceAsync(TestServiceHost.ServiceName)).Value;
        return entries.SingleOrDefault(e => e.Service?.ID == ServiceId);
    }

    /// <summary>The instance's TTL check, or <see langword="null"/>.</summary>
    public async Task<ConsulHealthCheck?> TtlCheckAsync() =>
        (await EntryAsync())?.Checks?.SingleOrDefault(c => c.CheckID == ConsulPublisher.CheckIdFor(ServiceId));

    /// <summary>The instance's maintenance check, or <see langword="null"/> when not in maintenance.</summary>
    public async Task<ConsulHealthCheck?> MaintenanceCheckAsync() =>
        (await EntryAsync())?.Checks?.SingleOrDefault(c => c.CheckID == ConsulCheckStatusNames.ServiceMaintenanceCheckIdPrefix + ServiceId);

    /// <summary>Advances the host's clock by one update interval per poll until <paramref name="condition"/> holds.</summary>
    public Task PumpUntilAsync(Func<Task<bool>> condition, string because) =>
        Eventually.HoldsAsync(
            async () =>
            {
                HostTime.Advance(Interval);
                return await condition();
            },
            because);

    /// <summary>Waits, without moving any clock, until the TTL check has <paramref name="status"/>.</summary>
    public Task TtlStatusIsAsync(string status, string because) =>
        Eventually.HoldsAsync(async () => (await TtlCheckAsync())?.Status == status, because);

    /// <summary>Ready and published passing.</summary>
    public async Task MarkReadyAndPassingAsync()
    {
        Lifecycle.MarkReady();
        await TtlStatusIsAsync(ConsulCheckStatusNames.Passing, "the ready service is published passing");
    }

    public async Task<HttpStatusCode> WorkAsync()
    {
        using var response = await Client.GetAsync("/work");
        return response.StatusCode;
    }

    /// <summary>Ends the process's publishing the way a crash does: no shutdown, no deregistration.</summary>
    public async Task CrashAsync()
    {
        _crashed = true;
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_crashed)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await App.StopAsync(timeout.Token);
            await App.DisposeAsync();
        }

        await Consul.DisposeAsync();
    }
}
