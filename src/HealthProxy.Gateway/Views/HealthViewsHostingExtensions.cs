using HealthProxy.Gateway.Endpoints;
using HealthProxy.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Views;

/// <summary>Wires the aggregated views, <c>/health/detailed</c>, the endpoint locks and gRPC health.</summary>
internal static class HealthViewsHostingExtensions
{
    private const string GrpcHealthPathPrefix = "/grpc.health.v1.Health";

    private static readonly HashSet<string> HealthPaths = new(StringComparer.OrdinalIgnoreCase)
    {
        GatewayHealthEndpoints.Public,
        GatewayHealthEndpoints.Startup,
        GatewayHealthEndpoints.Ready,
        GatewayHealthEndpoints.Live,
        DetailedHealthEndpoint.Path,
    };

    public static WebApplicationBuilder AddHealthProxyViews(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<HealthSecurityOptions>().BindConfiguration(HealthSecurityOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HealthSecurityOptions>, HealthSecurityOptionsValidator>();
        services.AddOptions<GrpcHealthOptions>().BindConfiguration(GrpcHealthOptions.SectionName);
        services.AddSingleton<HealthViews>();
        services.AddSingleton<HealthEndpointAccess>();

        // Unknown services must fall through to YARP, which may be proxying gRPC to a backend.
        services.AddGrpc(options => options.IgnoreUnknownServices = true);

        var listener = new GrpcHealthListener();
        services.AddSingleton(listener);
        var grpc = builder.Configuration.GetSection(GrpcHealthOptions.SectionName).Get<GrpcHealthOptions>();
        if (grpc?.Port is { } port)
        {
            builder.WebHost.ConfigureKestrel((context, kestrel) =>
            {
                // Any explicit listener makes Kestrel ignore the URLs, so bind them here too (unless
                // Kestrel:Endpoints, which Kestrel still honours, says where to listen).
                if (!context.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
                {
                    ListenOnUrls(kestrel, context.Configuration["urls"] ?? "http://localhost:5000");
                }

                Listen(kestrel, grpc.Host, port, options =>
                {
                    options.Protocols = HttpProtocols.Http2;
                    listener.Options = options;
                });
            });
        }

        return builder;
    }

    public static WebApplication MapHealthProxyViews(this WebApplication app)
    {
        var security = app.Services.GetRequiredService<IOptions<HealthSecurityOptions>>().Value;
        var access = app.Services.GetRequiredService<HealthEndpointAccess>();
        _ = app.Services.GetRequiredService<HealthViews>();

        // With no known proxy at all the middleware would believe every peer, so it runs only when some are configured;
        // and ASP.NET Core's default trust of loopback is dropped: only the configured proxies may speak for a caller.
        var trusted = NetworkList.Parse(security.TrustedProxies);
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = null };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list is still consulted and holds loopback by default.
        forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
        foreach (var network in trusted.Networks)
        {
            forwarded.KnownIPNetworks.Add(network);
        }

        app.UseWhen(IsHealthRequest, health =>
        {
            if (!trusted.IsEmpty)
            {
                health.UseForwardedHeaders(forwarded);
            }

            health.Use(async (context, next) =>
            {
                // gRPC callers are refused by the service itself, with a gRPC status.
                if (!context.Request.Path.StartsWithSegments(GrpcHealthPathPrefix) && !access.IsAllowed(context))
                {
                    await DetailedHealthEndpoint.WriteStatusAsync(context.Response, StatusCodes.Status403Forbidden, "forbidden").ConfigureAwait(false);
                    return;
                }

                await next(context).ConfigureAwait(false);
            });
        });

        // The detailed token is the gateway's own credential: a request that carries it to any other path (a
        // typo, or a path trick that falls through to a proxied route) must not hand it to a backend.
        app.UseWhen(context => access.DetailedEnabled && IsProxied(context) && access.HasDetailedToken(context.Request), strip =>
            strip.Use((context, next) =>
            {
                context.Request.Headers.Authorization = default;
                return next(context);
            }));

        app.MapGet(DetailedHealthEndpoint.Path, (HttpContext context, HealthEndpointAccess access, HealthViews views, RoutingTable table, TimeProvider timeProvider) =>
            DetailedHealthEndpoint.HandleAsync(context, access, views, table, timeProvider));
        app.MapGrpcService<GatewayGrpcHealthService>();
        return app;
    }

    // Routing has run (WebApplication puts it first): a YARP route's endpoint carries its RouteModel.
    private static bool IsProxied(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>() is not null;

    // Routing ignores a trailing slash ("/health/ready/" reaches /health/ready), so the lock must too.
    private static bool IsHealthRequest(HttpContext context) =>
        HealthPaths.Contains((context.Request.Path.Value ?? string.Empty).TrimEnd('/'))
        || context.Request.Path.StartsWithSegments(GrpcHealthPathPrefix)
        || context.Request.Path.StartsWithSegments(Dashboard.DashboardEndpoints.Path, StringComparison.OrdinalIgnoreCase);

    private static void ListenOnUrls(KestrelServerOptions kestrel, string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var address = BindingAddress.Parse(url);
            var https = string.Equals(address.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);
            Listen(kestrel, address.Host, address.Port, options =>
            {
                if (https)
                {
                    options.UseHttps();
                }
            });
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
