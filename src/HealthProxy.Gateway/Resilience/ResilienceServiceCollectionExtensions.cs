using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms.Builder;

namespace HealthProxy.Gateway.Resilience;

/// <summary>Registers outlier ejection and safe retries; the pipeline step is <see cref="ResilienceMiddleware"/>.</summary>
internal static class ResilienceServiceCollectionExtensions
{
    /// <summary>The log category of YARP's forwarder.</summary>
    public const string YarpForwarderCategory = "Yarp.ReverseProxy.Forwarder.HttpForwarder";

    /// <summary>
    /// Adds passive health (<see cref="OutlierDetector"/>, a YARP cluster change listener, registered after the
    /// state store), their options, the per-cluster and per-route config filters, the route settings table, the retry response transform and hedged reads.
    /// </summary>
    public static IServiceCollection AddHealthProxyResilience(this IServiceCollection services)
    {
        services.AddOptions<OutlierDetectionOptions>().BindConfiguration(OutlierDetectionOptions.SectionName).ValidateOnStart();
        services.AddOptions<RetryOptions>().BindConfiguration(RetryOptions.SectionName).ValidateOnStart();
        services.TryAddSingleton<ResilienceOptionsValidator>();
        services.AddSingleton<IValidateOptions<OutlierDetectionOptions>>(sp => sp.GetRequiredService<ResilienceOptionsValidator>());
        services.AddSingleton<IValidateOptions<RetryOptions>>(sp => sp.GetRequiredService<ResilienceOptionsValidator>());
        services.AddSingleton<OutlierDetector>();
        services.AddSingleton<IClusterChangeListener>(sp => sp.GetRequiredService<OutlierDetector>());
        services.AddSingleton<IProxyConfigFilter, OutlierConfigFilter>();
        services.AddSingleton<IProxyConfigFilter, RouteResilienceConfigFilter>();
        services.AddSingleton<RouteResilienceTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, RetryResponseTransformProvider>());

        // Hedged reads: a request transform plans them, the forwarder's outermost handler sends them. Registered
        // before AddReverseProxy, whose own client factory is added only when none is.
        services.AddSingleton<HedgePlans>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, HedgeTransformProvider>());
        services.AddSingleton<IForwarderHttpClientFactory, HedgingHttpClientFactory>();

        // YARP's forwarder logs every failed attempt at Warning with its whole stack trace, a client's own abort
        // included; ResilienceMiddleware writes one line per failed attempt instead (events 1320 and 1321).
        services.Configure<LoggerFilterOptions>(options => options.AddFilter(YarpForwarderCategory, LogLevel.Error));
        return services;
    }
}
