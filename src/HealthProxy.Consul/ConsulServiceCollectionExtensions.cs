using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HealthProxy.Consul;

/// <summary>Registers the Consul client with dependency injection.</summary>
public static class ConsulServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ConsulClientOptions"/> read from <paramref name="configuration"/> (section
    /// <see cref="ConsulClientOptions.SectionName"/> over <c>CONSUL_HTTP_ADDR</c>/<c>CONSUL_HTTP_TOKEN</c>),
    /// <see cref="TimeProvider.System"/> unless one is registered, and <see cref="IConsulClient"/> as a typed
    /// <see cref="HttpClient"/> without its own timeout. The options are read and validated here, so a bad
    /// address stops the host at startup with a message that names the key.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The configuration is invalid.</exception>
    public static IHttpClientBuilder AddHealthProxyConsulClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = ConsulClientOptions.FromConfiguration(configuration);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        return services
            .AddHttpClient<IConsulClient, ConsulClient>(http => http.Timeout = Timeout.InfiniteTimeSpan);
    }
}
