using System.Net;
using HealthProxy.Health;
using HealthProxy.Reporting.Checks;
using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using HealthProxy.Reporting.Tests.Servers;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using StackExchange.Redis;

namespace HealthProxy.Reporting.Tests.Endpoints;

[Collection(ExternalServers.Name)]
public sealed class ServiceHealthEndpointsTests(ExternalServersFixture servers)
{
    [Fact]
    public async Task Endpoints_BeforeMarkReady_StartupAndReady503StartingLive200()
    {
        await using var host = await TestServiceHost.StartAsync((_, _) => { });

        await AssertAnswersAsync(host, "/health/startup", HttpStatusCode.ServiceUnavailable, """{"status":"starting"}""");
        await AssertAnswersAsync(host, "/health/ready", HttpStatusCode.ServiceUnavailable, """{"status":"starting","service":"orders"}""");
        await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
    }

    [Fact]
    public async Task Endpoints_ReadyAndDependenciesUp_200Healthy()
    {
        await using var redis = await servers.Redis.ConnectAsync();
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var host = await StartWithDependenciesAsync(dataSource, redis);

        host.Lifecycle.MarkReady();

        await AssertAnswersAsync(host, "/health/startup", HttpStatusCode.OK, """{"status":"ready"}""");
        await AssertAnswersAsync(
            host,
            "/health/ready",
            HttpStatusCode.OK,
            """{"status":"healthy","service":"orders","own":"healthy","dependencies":{"postgres":{"status":"healthy","critical":true},"redis":{"status":"healthy","critical":false}}}""");
        await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
    }

    [Fact]
    public async Task Ready_RedisStopped_200Degraded()
    {
        var stopped = await RedisServer.StartAsync();
        await using var redis = await stopped.ConnectAsync();
        await stopped.DisposeAsync();
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var host = await StartWithDependenciesAsync(dataSource, redis);
        host.Lifecycle.MarkReady();

        await AssertAnswersAsync(
            host,
            "/health/ready",
            HttpStatusCode.OK,
            """{"status":"degraded","service":"orders","own":"healthy","dependencies":{"postgres":{"status":"healthy","critical":true},"redis":{"status":"unhealthy","critical":false}}}""");
        await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
    }

    [Fact]
    public async Task Ready_PostgresStopped_503Unhealthy()
    {
        await using var redis = await servers.Redis.ConnectAsync();
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var host = await StartWithDependenciesAsync(dataSource, redis);
        host.Lifecycle.MarkReady();

        await servers.Postgres.StopAsync();
        try
        {
            await AssertAnswersAsync(
                host,
                "/health/ready",
                HttpStatusCode.ServiceUnavailable,
                """{"status":"unhealthy","service":"orders","own":"healthy","dependencies":{"postgres":{"status":"unhealthy","critical":true},"redis":{"status":"healthy","critical":false}}}""");
            await AssertAnswersAsync(host, "/health/startup", HttpStatusCode.OK, """{"status":"ready"}""");
            await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
        }
        finally
        {
            await servers.Postgres.StartAgainAsync();
        }
    }

    [Fact]
    public async Task Shutdown_DuringDrainDelay_Ready503DrainingWhileRequestsStillSucceed()
    {
        var time = new FakeTimeProvider();
        var drainDelay = TimeSpan.FromSeconds(10);
        var changes = new List<ServiceLifecycleState>();
        await using var host = await TestServiceHost.StartAsync((_, s) =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.Configure<ServiceLifecycleOptions>(o => o.DrainDelay = drainDelay);
        });
        host.Lifecycle.StateChanged += (_, change) => { lock (changes) { changes.Add(change.Current); } };
        host.Lifecycle.MarkReady();
        await AssertAnswersAsync(host, "/health/ready", HttpStatusCode.OK, """{"status":"healthy","service":"orders","own":"healthy"}""");

        var stopping = host.App.StopAsync();

        await Eventually.HoldsAsync(
            async () => (await host.Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
            "readiness answers 503 once shutdown begins");
        await AssertAnswersAsync(host, "/health/ready", HttpStatusCode.ServiceUnavailable, """{"status":"draining","service":"orders"}""");
        await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
        Assert.Equal("done", await host.Client.GetStringAsync("/work"));
        Assert.False(stopping.IsCompleted);
        Assert.Equal(ServiceLifecycleState.Draining, host.Lifecycle.State);

        await Eventually.HoldsAsync(
            () =>
            {
                time.Advance(drainDelay);
                return stopping.IsCompleted;
            },
            "the host stops once the drain delay has passed");
        await stopping;
        Assert.Equal(ServiceLifecycleState.Stopped, host.Lifecycle.State);
        lock (changes)
        {
            Assert.Equal([ServiceLifecycleState.Ready, ServiceLifecycleState.Draining, ServiceLifecycleState.Stopped], changes);
        }
    }

    [Fact]
    public async Task Live_Requested_NeverRunsChecks()
    {
        var runs = 0;
        await using var host = await TestServiceHost.StartAsync((checks, _) => checks.AddCheck("self", () =>
        {
            Interlocked.Increment(ref runs);
            return HealthCheckResult.Unhealthy();
        }));
        host.Lifecycle.MarkReady();

        await AssertAnswersAsync(host, "/health/live", HttpStatusCode.OK, """{"status":"alive"}""");
        await AssertAnswersAsync(host, "/health/startup", HttpStatusCode.OK, """{"status":"ready"}""");

        Assert.Equal(0, Volatile.Read(ref runs));
        await AssertAnswersAsync(host, "/health/ready", HttpStatusCode.ServiceUnavailable, """{"status":"unhealthy","service":"orders","own":"unhealthy"}""");
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    [Fact]
    public async Task Endpoints_CustomPaths_MappedThere()
    {
        await using var host = await TestServiceHost.StartAsync((_, s) => s.Configure<ServiceHealthEndpointOptions>(o =>
        {
            o.StartupPath = "/k8s/started";
            o.ReadyPath = "/k8s/ready";
            o.LivePath = "/k8s/alive";
        }));

        await AssertAnswersAsync(host, "/k8s/started", HttpStatusCode.ServiceUnavailable, """{"status":"starting"}""");
        await AssertAnswersAsync(host, "/k8s/alive", HttpStatusCode.OK, """{"status":"alive"}""");
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Startup_ReadyWhenStarted_OpensGateItself()
    {
        await using var host = await TestServiceHost.StartAsync((_, s) => s.Configure<ServiceLifecycleOptions>(o => o.ReadyWhenStarted = true));

        await AssertAnswersAsync(host, "/health/startup", HttpStatusCode.OK, """{"status":"ready"}""");
    }

    [Fact]
    public async Task Start_NegativeDrainDelay_FailsNamingTheOption()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServiceHost.StartAsync((_, s) =>
            s.Configure<ServiceLifecycleOptions>(o => o.DrainDelay = TimeSpan.FromSeconds(-1))));

        Assert.Contains(nameof(ServiceLifecycleOptions.DrainDelay), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Map_RelativePath_FailsNamingTheOption()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServiceHost.StartAsync((_, s) =>
            s.Configure<ServiceHealthEndpointOptions>(o => o.ReadyPath = "ready")));

        Assert.Contains(nameof(ServiceHealthEndpointOptions.ReadyPath), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ZeroCheckTimeout_FailsNamingTheOption()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServiceHost.StartAsync((checks, _) =>
            checks.AddRedisDeepCheck(connection: _ => throw new InvalidOperationException("not used"), configure: o => o.Timeout = TimeSpan.Zero)));

        Assert.Contains(nameof(RedisDeepCheckOptions.Timeout), error.Message, StringComparison.Ordinal);
    }

    private static Task<TestServiceHost> StartWithDependenciesAsync(NpgsqlDataSource dataSource, IConnectionMultiplexer redis) =>
        TestServiceHost.StartAsync((checks, s) =>
        {
            s.AddSingleton(dataSource);
            s.AddSingleton(redis);
            checks.AddPostgresDeepCheck().AddRedisDeepCheck(configure: o => o.Timeout = TimeSpan.FromMilliseconds(500));
        });

    private static async Task AssertAnswersAsync(TestServiceHost host, string path, HttpStatusCode status, string body)
    {
        using var response = await host.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"GET {path}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal(body, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(StatusDocumentJson.TryParse(text, out _), $"GET {path}: the body is a status document");
    }
}
