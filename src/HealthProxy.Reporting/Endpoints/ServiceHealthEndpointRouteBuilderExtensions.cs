using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>Maps the Kubernetes startup, readiness and liveness endpoints, and gRPC health.</summary>
public static class ServiceHealthEndpointRouteBuilderExtensions
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>
    /// Maps startup, ready and live at the paths of <see cref="ServiceHealthEndpointOptions"/> (defaults
    /// <c>/health/startup</c>, <c>/health/ready</c>, <c>/health/live</c>) for GET and HEAD. Needs
    /// <see cref="ServiceHealthServiceCollectionExtensions.AddServiceHealth"/>.
    /// </summary>
    /// <returns>The group of the three endpoints, to add conventions (host filter, authorization).</returns>
    public static RouteGroupBuilder MapServiceHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var lifecycle = services.GetService<IServiceLifecycle>()
            ?? throw new InvalidOperationException(
                $"Call services.{nameof(ServiceHealthServiceCollectionExtensions.AddServiceHealth)}() before {nameof(MapServiceHealthEndpoints)}().");
        var options = services.GetRequiredService<IOptions<ServiceHealthEndpointOptions>>().Value;
        var handlers = new ServiceHealthEndpoints(lifecycle, services.GetRequiredService<IServiceStatusProvider>());

        var group = endpoints.MapGroup(string.Empty);
        group.MapMethods(options.StartupPath, GetAndHead, handlers.StartupAsync);
        group.MapMethods(options.ReadyPath, GetAndHead, handlers.ReadyAsync);
        group.MapMethods(options.LivePath, GetAndHead, ServiceHealthEndpoints.LiveAsync);
        return group;
    }

    /// <summary>
    /// Maps <c>grpc.health.v1.Health</c> (see <see cref="ServiceHealthServiceCollectionExtensions.AddServiceHealthGrpc"/>):
    /// SERVING while the service is healthy or degraded, NOT_SERVING otherwise, with the state's name in the
    /// <c>healthproxy-state</c> response header. gRPC needs HTTP/2: an <c>http://</c> endpoint must allow it
    /// (Kestrel <c>Protocols</c> <c>Http2</c>) for clients that speak h2c.
    /// </summary>
    /// <returns>The endpoint's builder, to add conventions (host filter, authorization).</returns>
    public static GrpcServiceEndpointConventionBuilder MapServiceHealthGrpc(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        if (services.GetService<IServiceLifecycle>() is null)
        {
            throw new InvalidOperationException(
                $"Call services.{nameof(ServiceHealthServiceCollectionExtensions.AddServiceHealth)}() before {nameof(MapServiceHealthGrpc)}().");
        }

        if (services.GetService<ServiceGrpcHealthService>() is null)
        {
            throw new InvalidOperationException(
                $"Call services.{nameof(ServiceHealthServiceCollectionExtensions.AddServiceHealthGrpc)}() before {nameof(MapServiceHealthGrpc)}().");
        }

        return endpoints.MapGrpcService<ServiceGrpcHealthService>();
    }
}
