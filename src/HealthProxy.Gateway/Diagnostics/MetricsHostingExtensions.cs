using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
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
    /// Registers the instruments and the exporter, and when <c>HealthProxy:Metrics:Port</c> is set, adds that
    /// port to the addresses the host listens on (after <c>urls</c>, or <c>http_ports</c>, or the default).
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

        var section = builder.Configuration.GetSection(MetricsOptions.SectionName);
        if (section.GetValue<int?>(nameof(MetricsOptions.Port)) is { } port and > 0 and <= 65535)
        {
            // Adding a Kestrel endpoint in code would silently drop the configured URLs; adding to them keeps both.
            var host = section[nameof(MetricsOptions.Host)] is { Length: > 0 } configured ? configured : "*";
            builder.WebHost.UseUrls([.. ConfiguredUrls(builder.WebHost), $"http://{host}:{port}"]);
        }

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

        if (options.Port is not { } port)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(options.Path);
            return app;
        }

        // The management port serves the scrape path and nothing else: no proxying, no health endpoints.
        var path = new PathString(options.Path);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => context.Connection.LocalPort == port && context.Request.Path == path,
            path: null,
            configureBranchedPipeline: null,
            optionsName: null);
        app.UseWhen(
            context => context.Connection.LocalPort == port,
            management => management.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        return app;
    }

    private static List<string> ConfiguredUrls(ConfigureWebHostBuilder webHost)
    {
        var urls = webHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return [.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        var ports = webHost.GetSetting(WebHostDefaults.HttpPortsKey);
        if (!string.IsNullOrWhiteSpace(ports))
        {
            return [.. ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}")];
        }

        return ["http://localhost:5000"];
    }
}
