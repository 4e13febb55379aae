using HealthProxy.Consul;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Dashboard;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Endpoints;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Hosting;

/// <summary>Wires HealthProxy into an ASP.NET Core host: <see cref="AddHealthProxy"/> then <see cref="MapHealthProxy"/>.</summary>
public static class HealthProxyHostingExtensions
{
    /// <summary>The configuration section YARP reads routes and clusters from.</summary>
    public const string ReverseProxySection = "ReverseProxy";

    /// <summary>
    /// Adds YARP with routes and clusters from <c>ReverseProxy</c> (reloaded on change), the health
    /// state store, the gateway's own probes and health-aware routing.
    /// </summary>
    public static WebApplicationBuilder AddHealthProxy(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        // First, so every later read of the configuration sees the watched files.
        services.AddSingleton(ConfigFiles.Watch(builder));
        services.AddSingleton<LiveSettings>();
        GatewayListeners.AddTo(builder);
        RequestActivityDefault.AddTo(services);
        services.AddOptions<ProbeOptions>().BindConfiguration(ProbeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProbeOptions>, ProbeOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<RoutingTable>();
        services.AddSingleton(provider => new GrpcRouting.GrpcCalls(provider.GetRequiredService<IHostEnvironment>().ContentRootPath));
        services.AddSingleton<InstanceHealthStore>();
        services.AddSingleton<ActiveProbeMonitor>();
        services.AddSingleton<GatewayReadiness>();
        services.AddSingleton<GatewayHealthView>();
        AddGracefulShutdown(services);
        services.AddHostedService<UnobservedTaskExceptionLogger>();
        services.AddHostedService<StartupReport>();

        // The store listens first so destinations exist before anything reports on them.
        services.AddSingleton<IClusterChangeListener>(sp => sp.GetRequiredService<InstanceHealthStore>());
        services.AddSingleton<IClusterChangeListener>(sp => sp.GetRequiredService<ActiveProbeMonitor>());
        services.AddSingleton<InstanceTraffic>();
        services.AddSingleton<IClusterChangeListener>(sp => sp.GetRequiredService<InstanceTraffic>());
        services.AddHealthProxyResilience();

        // Registered before AddReverseProxy, so YARP adds no monitor of its own (its documented seam).
        services.AddSingleton<IActiveHealthCheckMonitor>(sp => sp.GetRequiredService<ActiveProbeMonitor>());

        AddConsulDiscovery(services, builder.Configuration);
        builder.AddGatewayMetrics();
        builder.AddGatewayTracing();
        builder.AddHealthProxyViews();
        builder.AddHealthProxyDashboard();

        // Before the Consul filter, which replaces a stale cluster's HealthCheck:Active with its own.
        services.AddSingleton<IProxyConfigFilter, ActiveProbePolicyFilter>();
        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection(ReverseProxySection))
            .AddConfigFilter<ConsulDestinationsFilter>()
            .AddConfigFilter<GatewayConfigFilter>();
        services.AddSingleton<ILoadBalancingPolicy, HealthWeightedPolicy>();
        return builder;
    }

    private static void AddGracefulShutdown(IServiceCollection services)
    {
        services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();

        services.AddSingleton<IConfigureOptions<HostOptions>, HostShutdownTimeout>();
        services.AddHostedService<GatewayDrain>();
    }

    private static void AddConsulDiscovery(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DiscoveryOptions>().BindConfiguration(DiscoveryOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DiscoveryOptions>, DiscoveryOptionsValidator>();
        services.AddSingleton<ConfigReloadSignal>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<ConfigReloadSignal>());
        services.AddSingleton<ConsulDiscovery>();
        services.AddHostedService(sp => sp.GetRequiredService<ConsulDiscovery>());
        services.AddSingleton<IClusterChangeListener>(sp => sp.GetRequiredService<ConsulDiscovery>());

        // Built on first use: a gateway with no Consul cluster never needs Consul's settings to be valid.
        services.AddSingleton<IConsulClient>(sp => new ConsulClient(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan },
            ConsulClientOptions.FromConfiguration(configuration),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ConsulClient>>()));
    }

    /// <summary>
    /// Maps the gateway's health endpoints and the proxy, with health routing in YARP's pipeline.
    /// Throws <see cref="GatewayConfigurationException"/>, naming the keys, when the configuration is invalid.
    /// </summary>
    public static WebApplication MapHealthProxy(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<ConfigFileStatus>().AttachLogger(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConfigFiles)));
        try
        {
            // YARP's own parse errors do not name the key, so its typed values are checked before anything loads it.
            if (ReverseProxyValueCheck.Problems(app.Configuration.GetSection(ReverseProxySection)) is { Count: > 0 } unparsable)
            {
                throw new GatewayConfigurationException(unparsable);
            }

            // Our own options first, so their problems are reported as plainly as YARP's.
            _ = app.Services.GetRequiredService<IOptions<ProbeOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<DiscoveryOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<ShutdownOptions>>().Value;
            app.MapHealthProxyViews();
            app.MapHealthProxyDashboard();
            app.MapGatewayHealthEndpoints();
            app.MapGatewayMetrics();

            // YARP loads and validates the configuration here, synchronously.
            app.MapReverseProxy(pipeline =>
            {
                pipeline.UseMiddleware<HealthRoutingMiddleware>();
                pipeline.UseSessionAffinity();
                pipeline.UseLoadBalancing();
                pipeline.UseMiddleware<TrafficMiddleware>();
                pipeline.UseMiddleware<ResilienceMiddleware>();
            });
        }
        catch (OptionsValidationException ex)
        {
            throw new GatewayConfigurationException([.. ex.Failures]);
        }
        catch (InvalidOperationException ex)
        {
            throw new GatewayConfigurationException(CollectProblems(ex));
        }

        app.Services.GetRequiredService<GatewayReadiness>().MarkConfigLoaded();
        app.Services.GetRequiredService<LiveSettings>().Start();
        return app;
    }

    private static List<string> CollectProblems(Exception root)
    {
        var problems = new List<string>();
        var pending = new Stack<Exception>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var exception = pending.Pop();
            switch (exception)
            {
                case GatewayConfigurationException ours:
                    problems.AddRange(ours.Problems);
                    break;
                case InvalidOperationException { InnerException: FormatException or OverflowException or ArgumentException } conversion
                    when conversion.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                    // The binder's own message names the key; the inner one only says what did not parse.
                    problems.Add(conversion.Message);
                    break;
                case AggregateException aggregate:
                    foreach (var inner in aggregate.InnerExceptions.Reverse())
                    {
                        pending.Push(inner);
                    }

                    break;
                case { InnerException: { } inner }:
                    pending.Push(inner);
                    break;
                default:
                    problems.Add($"{ReverseProxySection}: {exception.Message}");
                    break;
            }
        }

        return problems;
    }
}
