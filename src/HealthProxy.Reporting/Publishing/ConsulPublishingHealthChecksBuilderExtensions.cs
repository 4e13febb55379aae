using HealthProxy.Consul;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Publishing;

/// <summary>Publishes the service's health to Consul.</summary>
public static class ConsulPublishingHealthChecksBuilderExtensions
{
    /// <summary>
    /// Registers the service in Consul with a TTL check and keeps it current: the check's status follows the
    /// service's state (healthy passing, degraded warning, starting or unhealthy critical, draining critical and in
    /// maintenance), its output is the status document, and the instance is deregistered on shutdown after the drain
    /// delay. Chain it on <c>AddServiceHealth()</c>.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddServiceHealth()</c>.</param>
    /// <param name="configuration">
    /// The configuration root: the Consul client reads <c>HealthProxy:Consul</c> (over <c>CONSUL_HTTP_ADDR</c>) and
    /// <see cref="ConsulPublishingOptions"/> are bound from <see cref="ConsulPublishingOptions.SectionName"/>.
    /// </param>
    /// <param name="configure">Adjusts the options after binding.</param>
    /// <returns>The builder, for more checks.</returns>
    /// <exception cref="OptionsValidationException">The Consul client's configuration is invalid (thrown here); the publishing options are validated when the host starts.</exception>
    public static IHealthChecksBuilder PublishToConsul(this IHealthChecksBuilder builder, IConfiguration configuration, Action<ConsulPublishingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var services = builder.Services;
        services.AddHealthProxyConsulClient(configuration);

        var options = services.AddOptions<ConsulPublishingOptions>().Bind(configuration.GetSection(ConsulPublishingOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.PostConfigure<IOptions<ServiceHealthOptions>>((o, health) => o.ServiceName ??= health.Value.ServiceName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsulPublishingOptions>, ConsulPublishingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConsulPublisher>());
        return builder;
    }
}
