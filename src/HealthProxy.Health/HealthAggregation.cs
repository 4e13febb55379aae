namespace HealthProxy.Health;

/// <summary>The two ways states are combined.</summary>
public static class HealthAggregation
{
    /// <summary>
    /// Combines the states of the parts of <em>one</em> thing (an instance's sources, a service's own
    /// health and its dependencies) by precedence: the worst wins. No parts means nothing is wrong.
    /// </summary>
    public static HealthState Combine(IEnumerable<HealthState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var worst = HealthState.Healthy;
        foreach (var state in states)
        {
            worst = worst.Worst(state);
        }

        return worst;
    }

    /// <summary>
    /// Judges a <em>group</em> (the instances of a service, the services of a category) by how many
    /// members are healthy: all -> healthy, more than half -> degraded, otherwise unhealthy; an
    /// empty group is unknown.
    /// </summary>
    public static AggregateHealth Group(int healthy, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(healthy);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(healthy, total);
        if (total == 0)
        {
            return AggregateHealth.Unknown;
        }

        if (healthy == total)
        {
            return AggregateHealth.Healthy;
        }

        return healthy * 2 > total ? AggregateHealth.Degraded : AggregateHealth.Unhealthy;
    }

    /// <summary>Judges a group of instance states; only <see cref="HealthState.Healthy"/> counts as healthy.</summary>
    public static AggregateHealth Group(IEnumerable<HealthState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        int healthy = 0, total = 0;
        foreach (var state in states)
        {
            total++;
            if (state == HealthState.Healthy)
            {
                healthy++;
            }
        }

        return Group(healthy, total);
    }
}
