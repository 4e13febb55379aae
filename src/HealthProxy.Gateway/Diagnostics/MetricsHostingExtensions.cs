using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Metrics through OpenTelemetry's Prometheus exporter, on the main port or a management port.</summary>
internal static class MetricsHostingExtensions
{
    /// <summary>The built-in .NET meters exported beside the gateway's own (no instrumentation package needed on .NET 9+).</summary>
    public static readonly string[] BuiltInMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Runtime",
    ];

    /// <summary>The outgoing-request meter, exported only with <see cref="MetricsOptions.HttpClientMeter"/>.</summary>
    public const string HttpClientMeter = "System.Net.Http";

    /// <summary>
    /// The outgoing-request tags /metrics keeps: the client instruments also carry <c>server.address</c>,
    /// <c>server.port</c> and <c>network.peer.address</c>, which would publish every destination's address.
    /// </summary>
    private static readonly MetricStreamConfiguration HttpClientView = new()
    {
        TagKeys = ["http.request.method", "http.response.status_code", "error.type", "network.protocol.version", "url.scheme"],
    };

    /// <summary>
    /// Registers the instruments and the exporter; the metrics port itself is bound by <see cref="GatewayListeners"/>.
    /// </summary>
    public static WebApplicationBuilder AddGatewayMetrics(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        services.AddSingleton<HealthGauges>();
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(GatewayMetrics.MeterName)
                .AddMeter(BuiltInMeters)
                .AddView(instrument => instrument.Meter.Name == HttpClientMeter ? HttpClientView : null)
                .AddPrometheusExporter();

            // Read when the provider is built, after MapHealthProxy has reported an unreadable value by its key.
            ((IDeferredMeterProviderBuilder)metrics).Configure((provider, deferred) =>
            {
                if (provider.GetRequiredService<IOptions<MetricsOptions>>().Value.HttpClientMeter)
                {
                    deferred.AddMeter(HttpClientMeter);
                }
            });
        });

        return builder;
    }

    /// <summary>Serves the scrape endpoint and times proxied requests. Call before YARP is mapped.</summary>
    public static WebApplication MapGatewayMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;

        // Built now, so the observable instruments exist before the first scrape.
        _ = app.Services.GetRequiredService<HealthGauges>();
        if (options.LegacyRequestDuration)
        {
            app.UseMiddleware<RequestMetricsMiddleware>();
        }

        if (!options.Enabled)
        {
            return app;
        }

        // An endpoint, so the port it may be served on is decided with the gateway's other endpoints (see GatewayListeners).
        app.MapPrometheusScrapingEndpoint(options.Path).WithMetadata(GatewayEndpoint.Metrics);
        return app;
    }
}
