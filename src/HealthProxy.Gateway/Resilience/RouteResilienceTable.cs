using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// Each route's <see cref="RouteResilience"/>, read once per YARP route model. Kept beside the model it belongs to
/// (a <see cref="ConditionalWeakTable{TKey, TValue}"/>), so it goes when YARP replaces or drops the route; a
/// lookup that finds it takes no lock.
/// </summary>
internal sealed class RouteResilienceTable
{
    private static readonly ConditionalWeakTable<RouteModel, RouteResilience>.CreateValueCallback Create = static route => RouteResilience.For(route.Config);

    private readonly ConditionalWeakTable<RouteModel, RouteResilience> _routes = new();

    public RouteResilience For(RouteModel route) => _routes.GetValue(route, Create);
}
