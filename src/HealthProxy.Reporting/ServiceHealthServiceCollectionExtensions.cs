using HealthProxy.Reporting.Endpoints;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting;

/// <summary>Registers the service-side health reporting.</summary>
public static class ServiceHealthServiceCollectionExtensions
{
    /// <summary>
    /// Registers the lifecycle (<see cref="IServiceLifecycle"/>, drained on shutdown), the
    /// <see cref="IServiceStatusProvider"/>, the options of the lifecycle and the endpoints (validated at startup)
    /// and <c>AddHealthChecks()</c>. Chain the checks on the result.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts <see cref="ServiceHealthOptions"/>.</param>
    /// <returns>The health checks builder, for <c>AddPostgresDeepCheck</c> and friends.</returns>
    public static IHealthChecksBuilder AddServiceHealth(this IServiceCollection services, Action<ServiceHealthOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServiceLifecycle>();
        services.TryAddSingleton<IServiceLifecycle>(sp => sp.GetRequiredService<ServiceLifecycle>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServiceLifecycleHostedService>());
        services.TryAddSingleton<IServiceStatusProvider, ServiceStatusProvider>();

        var options = services.AddOptions<ServiceHealthOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IHostEnvironment>((o, environment) => o.ServiceName ??= environment.ApplicationName).ValidateOnStart();
        services.AddOptions<ServiceLifecycleOptions>().ValidateOnStart();
        services.AddOptions<ServiceHealthEndpointOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceHealthOptions>, ServiceHealthOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceLifecycleOptions>, ServiceLifecycleOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceHealthEndpointOptions>, ServiceHealthEndpointOptionsValidator>());
        return services.AddHealthChecks();
    }

    /// <summary>
    /// Registers <c>grpc.health.v1.Health</c> (Check and Watch) backed by the service's status, and gRPC itself
    /// (<c>AddGrpc()</c>). Map it with <see cref="ServiceHealthEndpointRouteBuilderExtensions.MapServiceHealthGrpc"/>. Needs
    /// <see cref="AddServiceHealth"/>, before or after.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddServiceHealthGrpc(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGrpc();
        services.TryAddSingleton<ServiceGrpcHealthService>();
        return services;
    }
}
