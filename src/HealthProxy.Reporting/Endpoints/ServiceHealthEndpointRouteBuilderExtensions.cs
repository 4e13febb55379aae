using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>Maps the Kubernetes startup, readiness and liveness endpoints.</summary>
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
}
