using HealthProxy.Reporting;
using HealthProxy.Reporting.Checks;
using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using HealthProxy.Reporting.Publishing;
using Npgsql;
using StackExchange.Redis;

var builder = WebApplication.CreateBuilder(args);

var checks = builder.Services.AddServiceHealth(o => o.ServiceName = builder.Configuration["Service:Name"]);
builder.Services.Configure<ServiceLifecycleOptions>(builder.Configuration.GetSection("HealthProxy:Lifecycle"));
builder.Services.Configure<ServiceHealthEndpointOptions>(builder.Configuration.GetSection("HealthProxy:Endpoints"));

// Each dependency is checked only when it is configured; without any, readiness reports own health only.
if (builder.Configuration.GetConnectionString("Postgres") is { Length: > 0 } postgres)
{
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
    checks.AddPostgresDeepCheck(); // critical: database down -> unhealthy (503)
}

if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
{
    builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
    {
        var options = ConfigurationOptions.Parse(redis);
        options.AbortOnConnectFail = false; // start even when Redis is down; the check reports it
        return ConnectionMultiplexer.Connect(options);
    });
    checks.AddRedisDeepCheck(); // not critical: cache down, database up -> degraded (200)
}

foreach (var downstream in builder.Configuration.GetSection("Downstreams").GetChildren())
{
    var uri = downstream.GetValue<Uri>("Uri") ?? throw new InvalidOperationException($"Downstreams:{downstream.Key}:Uri is required.");
    checks.AddDownstreamCheck(downstream.Key, uri, critical: downstream.GetValue("Critical", defaultValue: true));
}

// Published to Consul only when an agent is configured (HealthProxy:Consul:Address or CONSUL_HTTP_ADDR); options
// under HealthProxy:Publishing (ServiceId, Address, Port, Tags, Meta, Category, Ttl, ...), validated at startup.
if (!string.IsNullOrWhiteSpace(builder.Configuration["HealthProxy:Consul:Address"])
    || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR")))
{
    checks.PublishToConsul(builder.Configuration);
}

var app = builder.Build();
app.MapServiceHealthEndpoints();
app.MapGet("/", () => Results.Text("HealthProxy sample service"));

await app.StartAsync();

// Initialisation the service must finish before it takes traffic; the startup probe answers 503 until then.
await WarmUp.RunAsync(app.Services, app.Lifetime.ApplicationStopping);
app.Services.GetRequiredService<IServiceLifecycle>().MarkReady();

await app.WaitForShutdownAsync();
