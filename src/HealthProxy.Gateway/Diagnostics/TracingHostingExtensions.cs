using System.Diagnostics;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// OpenTelemetry tracing through the OTLP exporter, configured the standard way (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>,
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c>, <c>OTEL_TRACES_SAMPLER</c>, ... read by the SDK from
/// the configuration, environment variables included), and off unless an OTLP endpoint is set.
/// </summary>
/// <remarks>
/// A proxied request is ASP.NET Core's server span with each forward as an HttpClient client span, which carries
/// <c>traceparent</c> to the instance. Outgoing calls made outside a traced request (probes, Consul) are traced only
/// with <c>HealthProxy:Tracing:BackgroundCalls</c>. With tracing off nothing is registered: no listener, so Hosting
/// starts no Activity for the requests (see <see cref="Hosting.RequestActivityDefault"/>).
/// </remarks>
internal static class TracingHostingExtensions
{
    /// <summary>The key that traces probes and Consul calls too.</summary>
    public const string BackgroundCallsKey = "HealthProxy:Tracing:BackgroundCalls";

    /// <summary>The service name when neither <c>OTEL_SERVICE_NAME</c> nor <c>OTEL_RESOURCE_ATTRIBUTES</c> gives one.</summary>
    public const string DefaultServiceName = "healthproxy";

    /// <summary>Whether tracing is configured: an OTLP endpoint set, and the SDK not disabled.</summary>
    public static bool IsEnabled(IConfiguration configuration)
    {
        var endpoint = configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var disabled = bool.TryParse(configuration["OTEL_SDK_DISABLED"], out var off) && off;
        return !string.IsNullOrWhiteSpace(endpoint) && !disabled;
    }

    public static WebApplicationBuilder AddGatewayTracing(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var enabled = IsEnabled(configuration);
        builder.Services.AddSingleton(sp => new GatewayTracing(enabled, sp.GetRequiredService<InstanceHealthStore>()));
        if (!enabled)
        {
            return builder;
        }

        var backgroundText = configuration[BackgroundCallsKey];
        var background = false;
        if (backgroundText is not null && !bool.TryParse(backgroundText, out background))
        {
            throw new GatewayConfigurationException($"{BackgroundCallsKey} must be true or false (got '{backgroundText}').");
        }

        var namesService = !string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])
            || (configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) ?? false);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!namesService)
                {
                    resource.AddService(DefaultServiceName);
                }
            })
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = _ => background || Activity.Current?.Parent is not null)
                .AddOtlpExporter());
        return builder;
    }
}
