using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>Wires the live dashboard (<c>/dashboard</c>); its locks are the health endpoints' (see <c>HealthViewsHostingExtensions</c>).</summary>
internal static class DashboardHostingExtensions
{
    public static WebApplicationBuilder AddHealthProxyDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DashboardAssets>();
        builder.Services.AddSingleton<DashboardEventLog>();
        builder.Services.AddSingleton<DashboardState>();
        return builder;
    }

    public static WebApplication MapHealthProxyDashboard(this WebApplication app)
    {
        // Built now, so events are recorded from startup, not from the first visit.
        _ = app.Services.GetRequiredService<DashboardEventLog>();
        _ = app.Services.GetRequiredService<DashboardAssets>();

        // Every dashboard endpoint is behind the health endpoints' allowlist (GatewayEndpoint metadata).
        const string path = DashboardEndpoints.Path;
        var dashboard = app.MapGroup(path).WithMetadata(GatewayEndpoint.Health);
        dashboard.MapGet(string.Empty, DashboardEndpoints.PageAsync);
        dashboard.MapGet("/state", DashboardEndpoints.StateAsync);
        dashboard.MapGet("/events", DashboardEndpoints.EventsAsync);
        dashboard.MapGet("/" + DashboardAssets.Script, (HttpContext context, Views.HealthEndpointAccess access, DashboardAssets assets, TimeProvider timeProvider) =>
            DashboardEndpoints.AssetAsync(context, DashboardAssets.Script, access, assets, timeProvider));
        dashboard.MapGet("/" + DashboardAssets.Style, (HttpContext context, Views.HealthEndpointAccess access, DashboardAssets assets, TimeProvider timeProvider) =>
            DashboardEndpoints.AssetAsync(context, DashboardAssets.Style, access, assets, timeProvider));
        return app;
    }
}
