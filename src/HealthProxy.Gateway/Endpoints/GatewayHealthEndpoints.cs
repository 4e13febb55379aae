using HealthProxy.Gateway.Hosting;
using HealthProxy.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>The gateway's own health endpoints, for Kubernetes and for people.</summary>
internal static class GatewayHealthEndpoints
{
    public const string Startup = "/health/startup";
    public const string Ready = "/health/ready";
    public const string Live = "/health/live";
    public const string Public = "/health";

    public static IEndpointRouteBuilder MapGatewayHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var readiness = endpoints.ServiceProvider.GetRequiredService<GatewayReadiness>();
        var view = endpoints.ServiceProvider.GetRequiredService<GatewayHealthView>();

        // Behind the allowlist, as every gateway endpoint (GatewayEndpoint metadata).
        var group = endpoints.MapGroup(string.Empty).WithMetadata(GatewayEndpoint.Health);

        // 503 until the config is loaded and the first probes are in, so no pod takes traffic blind.
        group.MapGet(Startup, () => readiness.Started
            ? Status(StatusCodes.Status200OK, "ready")
            : Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Starting));

        group.MapGet(Ready, () => readiness.Stopping
            ? Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Draining)
            : !readiness.Started
                ? Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Starting)
                : readiness.ConfigStale
                    ? Results.Text("{\"status\":\"" + HealthStateNames.Degraded + "\",\"config\":\"stale\"}", "application/json", statusCode: StatusCodes.Status200OK)
                    : readiness.Degraded
                        ? Status(StatusCodes.Status200OK, HealthStateNames.Degraded)
                        : Status(StatusCodes.Status200OK, "ready"));

        // Liveness never looks at anything but the process answering.
        group.MapGet(Live, () => Status(StatusCodes.Status200OK, "alive"));

        // Public and minimal: the overall status word, nothing about what is behind it.
        group.MapGet(Public, () =>
        {
            if (readiness.Stopping)
            {
                return Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Draining);
            }

            if (!readiness.Started)
            {
                return Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Starting);
            }

            return view.Overall switch
            {
                AggregateHealth.Unhealthy => Status(StatusCodes.Status503ServiceUnavailable, HealthStateNames.Unhealthy),
                AggregateHealth.Degraded => Status(StatusCodes.Status200OK, HealthStateNames.Degraded),
                _ => Status(StatusCodes.Status200OK, HealthStateNames.Healthy),
            };
        });

        return endpoints;
    }

    private static IResult Status(int statusCode, string status) =>
        Results.Text("{\"status\":\"" + status + "\"}", "application/json", statusCode: statusCode);
}
