using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// YARP's proxy feature for a request of a route with its own activity timeout: the same request, with the
/// cluster model carrying the route's timeout, which YARP's forwarder reads its request config from.
/// </summary>
internal sealed class RouteClusterFeature(IReverseProxyFeature inner, ClusterModel cluster) : IReverseProxyFeature
{
    public RouteModel Route => inner.Route;

    public ClusterModel Cluster => cluster;

    public IReadOnlyList<DestinationState> AllDestinations => inner.AllDestinations;

    public IReadOnlyList<DestinationState> AvailableDestinations
    {
        get => inner.AvailableDestinations;
        set => inner.AvailableDestinations = value;
    }

    public DestinationState? ProxiedDestination
    {
        get => inner.ProxiedDestination;
        set => inner.ProxiedDestination = value;
    }
}
