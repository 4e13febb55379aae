using HealthProxy.Gateway.Routing;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>
/// The overall health of what the gateway fronts: each cluster judged by how many of its instances
/// are healthy, the worst cluster wins. Recomputed when routing changes, never per request.
/// </summary>
internal sealed class GatewayHealthView
{
    private readonly RoutingTable _table;
    private readonly Lock _lock = new();
    private volatile Box _overall = new(AggregateHealth.Unknown);

    public GatewayHealthView(RoutingTable table)
    {
        _table = table;
        table.Changed += _ => Recompute();
        Recompute();
    }

    public AggregateHealth Overall => _overall.Value;

    private void Recompute()
    {
        lock (_lock)
        {
            var overall = AggregateHealth.Unknown;
            foreach (var cluster in _table.Clusters)
            {
                var healthy = 0;
                foreach (var instance in cluster.Instances.Values)
                {
                    healthy += instance.RoutingState == HealthState.Healthy ? 1 : 0;
                }

                var aggregate = HealthAggregation.Group(healthy, cluster.All.Count);
                overall = aggregate > overall ? aggregate : overall;
            }

            _overall = new Box(overall);
        }
    }

    private sealed record Box(AggregateHealth Value);
}
