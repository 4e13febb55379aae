using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// The gateway's listeners: the main addresses, named every way ASP.NET Core allows, plus the optional
/// h2c traffic port, gRPC health port and metrics port beside them.
/// </summary>
/// <remarks>
/// Kestrel ignores <c>urls</c>, <c>http_ports</c> and <c>https_ports</c> as soon as one listener is added in
/// code, so with an extra port this class binds the main addresses itself, resolving them as the host
/// does: <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) first, else <c>http_ports</c>/<c>https_ports</c>
/// (<c>ASPNETCORE_HTTP_PORTS</c>/<c>ASPNETCORE_HTTPS_PORTS</c>) on every interface, else
/// <c>http://localhost:5000</c>. <c>Kestrel:Endpoints</c>, when present, is bound by Kestrel itself beside
/// the code's listeners, so then only the extra ports are added.
/// </remarks>
internal sealed class GatewayListeners
{
    private const string KestrelEndpointsKey = "Kestrel:Endpoints";

    private ListenOptions? _metrics;
    private ListenOptions? _h2c;
    private bool _bindsMainAddresses;

    /// <summary>The gRPC health port's listener.</summary>
    public GrpcHealthListener Grpc { get; } = new();

    /// <summary>The bound gRPC health port, or null when there is none (known only once bound when 0 was asked).</summary>
    public int? GrpcPort => Grpc.Port;

    /// <summary>The bound h2c traffic port (<see cref="H2cOptions"/>), or null when there is none.</summary>
    public int? H2cPort => _h2c?.IPEndPoint?.Port;

    /// <summary>The bound metrics port, or null when the scrape path is served on the main port.</summary>
    public int? MetricsPort => _metrics?.IPEndPoint?.Port;

    /// <summary>
    /// Whether this class binds the main addresses itself. The host then still hands Kestrel the same
    /// addresses from <c>urls</c>/<c>http_ports</c>, which Kestrel would ignore with an "Overriding address(es)"
    /// warning, so <see cref="ServerAddressesStartupFilter"/> takes them back first.
    /// </summary>
    public bool BindsMainAddresses => _bindsMainAddresses;

    /// <summary>Whether a dedicated port exists, so requests must be checked for the port they came in on.</summary>
    public bool AnyDedicatedPort => Grpc.Options is not null || _metrics is not null;

    public static void AddTo(WebApplicationBuilder builder)
    {
        var listeners = new GatewayListeners();
        builder.Services.AddSingleton(listeners);
        builder.Services.AddSingleton(listeners.Grpc);
        var configuration = builder.Configuration;
        int? grpcPort, metricsPort, h2cPort;
        try
        {
            grpcPort = configuration.GetSection(GrpcHealthOptions.SectionName).GetValue<int?>(nameof(GrpcHealthOptions.Port));
            metricsPort = configuration.GetSection(MetricsOptions.SectionName).GetValue<int?>(nameof(MetricsOptions.Port));
            h2cPort = configuration.GetSection(H2cOptions.SectionName).GetValue<int?>(nameof(H2cOptions.Port));
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key.
            throw new GatewayConfigurationException(ex.Message);
        }

        if (h2cPort is { } port and (< 0 or > 65535))
        {
            throw new GatewayConfigurationException($"{H2cOptions.SectionName}:{nameof(H2cOptions.Port)} must be 0-65535 (got {port}).");
        }

        if (grpcPort is null && metricsPort is not (> 0 and <= 65535) && h2cPort is null)
        {
            return;
        }

        builder.Services.AddSingleton<IStartupFilter, ServerAddressesStartupFilter>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var settings = context.Configuration;
            if (!settings.GetSection(KestrelEndpointsKey).GetChildren().Any())
            {
                listeners._bindsMainAddresses = true;
                foreach (var url in MainUrls(settings))
                {
                    ListenOnUrl(kestrel, url);
                }
            }

            if (grpcPort is { } grpc)
            {
                var host = settings[$"{GrpcHealthOptions.SectionName}:{nameof(GrpcHealthOptions.Host)}"] is { Length: > 0 } h ? h : "*";
                Listen(kestrel, host, grpc, options =>
                {
                    options.Protocols = HttpProtocols.Http2;
                    listeners.Grpc.Options = options;
                });
            }

            if (h2cPort is { } h2c)
            {
                var host = settings[$"{H2cOptions.SectionName}:{nameof(H2cOptions.Host)}"] is { Length: > 0 } h ? h : "*";
                Listen(kestrel, host, h2c, options =>
                {
                    options.Protocols = HttpProtocols.Http2;
                    listeners._h2c = options;
                });
            }

            if (metricsPort is { } metrics and > 0 and <= 65535)
            {
                var host = settings[$"{MetricsOptions.SectionName}:{nameof(MetricsOptions.Host)}"] is { Length: > 0 } h ? h : "*";
                Listen(kestrel, host, metrics, options => listeners._metrics = options);
            }
        });
    }

    /// <summary>The main addresses as the host resolves them when no listener is added in code.</summary>
    public static IReadOnlyList<string> MainUrls(IConfiguration settings)
    {
        if (settings[WebHostDefaults.ServerUrlsKey] is { } urls && !string.IsNullOrWhiteSpace(urls))
        {
            return Split(urls);
        }

        var ports = Split(settings[WebHostDefaults.HttpPortsKey]).Select(port => $"http://*:{port}")
            .Concat(Split(settings[WebHostDefaults.HttpsPortsKey]).Select(port => $"https://*:{port}"))
            .ToList();
        return ports.Count > 0 ? ports : ["http://localhost:5000"];
    }

    private static string[] Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void ListenOnUrl(KestrelServerOptions kestrel, string url)
    {
        var address = BindingAddress.Parse(url);
        var https = string.Equals(address.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);
        void Configure(ListenOptions options)
        {
            if (https)
            {
                options.UseHttps();
            }
        }

        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, Configure);
        }
        else
        {
            Listen(kestrel, address.Host, address.Port, Configure);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, Action<ListenOptions> configure)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else if (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, port, configure);
        }
        else
        {
            // "*", "+" or a host name: every interface, as Kestrel does for URLs.
            kestrel.ListenAnyIP(port, configure);
        }
    }
}
