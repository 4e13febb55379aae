using HealthProxy.Gateway.Endpoints;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Views;

/// <summary>Wires the aggregated views, <c>/health/detailed</c>, the endpoint locks and gRPC health.</summary>
internal static class HealthViewsHostingExtensions
{
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
        return builder;
    }

    public static WebApplication MapHealthProxyViews(this WebApplication app)
    {
        var security = app.Services.GetRequiredService<IOptions<HealthSecurityOptions>>().Value;
        var access = app.Services.GetRequiredService<HealthEndpointAccess>();
        var listeners = app.Services.GetRequiredService<GatewayListeners>();
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

        // One gate after routing (WebApplication routes first), decided by the matched endpoint's metadata: the
        // gateway's own endpoints go through the allowlist; a proxied request pays one metadata lookup, plus the
        // token strip when it carries an Authorization header. Routing ignores a trailing slash, so the lock does too.
        app.Use(next =>
        {
            var locked = ((IApplicationBuilder)app).New();
            if (!trusted.IsEmpty)
            {
                locked.UseForwardedHeaders(forwarded);
            }

            locked.Use(async (context, inner) =>
            {
                // gRPC callers are refused by the service itself, with a gRPC status.
                if (context.GetEndpoint()?.Metadata.GetMetadata<GatewayEndpoint>()?.Kind != GatewayEndpointKind.GrpcHealth && !access.IsAllowed(context))
                {
                    await DetailedHealthEndpoint.WriteStatusAsync(context.Response, StatusCodes.Status403Forbidden, "forbidden").ConfigureAwait(false);
                    return;
                }

                await inner(context).ConfigureAwait(false);
            });
            locked.Run(next);
            var lockedPipeline = locked.Build();

            return context =>
            {
                var gateway = context.GetEndpoint()?.Metadata.GetMetadata<GatewayEndpoint>();
                if (listeners.AnyDedicatedPort && !ServesOnThisPort(context, gateway, listeners))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                if (gateway is null)
                {
                    // The detailed token is the gateway's own credential: a request that carries it anywhere else (a
                    // typo, or a path trick that falls through to a proxied route) must not hand it to a backend.
                    if (context.Request.Headers.Authorization.Count > 0)
                    {
                        access.StripDetailedToken(context.Request.Headers);
                    }

                    return next(context);
                }

                return gateway.Kind == GatewayEndpointKind.Metrics ? next(context) : lockedPipeline(context);
            };
        });

        app.MapGet(DetailedHealthEndpoint.Path, (HttpContext context, HealthEndpointAccess access, HealthViews views, RoutingTable table, TimeProvider timeProvider) =>
            DetailedHealthEndpoint.HandleAsync(context, access, views, table, timeProvider))
            .WithMetadata(GatewayEndpoint.Health);
        app.MapGrpcService<GatewayGrpcHealthService>().WithMetadata(GatewayEndpoint.GrpcHealth);
        return app;
    }

    // The gRPC port serves gRPC health only, the metrics port the scrape path only, and the scrape path is not
    // served on the main port when it has a port of its own.
    private static bool ServesOnThisPort(HttpContext context, GatewayEndpoint? gateway, GatewayListeners listeners)
    {
        var port = context.Connection.LocalPort;
        if (port == listeners.GrpcPort)
        {
            return gateway?.Kind == GatewayEndpointKind.GrpcHealth;
        }

        if (port == listeners.MetricsPort)
        {
            return gateway?.Kind == GatewayEndpointKind.Metrics;
        }

        return gateway?.Kind != GatewayEndpointKind.Metrics || listeners.MetricsPort is null;
    }
}
