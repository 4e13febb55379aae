using HealthProxy.Gateway.Views;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>
/// The overall health of what the gateway fronts, for the public <c>/health</c>: the overall view of
/// <see cref="HealthViews"/>, computed when routing changes, never per request.
/// </summary>
internal sealed class GatewayHealthView(HealthViews views)
{
    public AggregateHealth Overall => views.Current.Overall.Health;
}
