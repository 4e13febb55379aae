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

    /// <summary>
    /// Judges a group of <em>services</em> (a category, the whole system) by the same rule, one level up:
    /// every member fully healthy -> healthy; more than half still serving (healthy or degraded, i.e.
    /// each with a healthy majority of instances) -> degraded; otherwise unhealthy; no members -> unknown.
    /// </summary>
    /// <remarks>
    /// A degraded service counts as serving rather than as failed, so one instance of three going
    /// down makes a one-service system degraded, not unhealthy: the group is as bad as the share of
    /// its services that can no longer serve, which is what a caller of the whole system feels.
    /// </remarks>
    public static AggregateHealth GroupServices(int healthy, int serving, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(healthy);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(healthy, serving);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serving, total);
        if (total == 0)
        {
            return AggregateHealth.Unknown;
        }

        if (healthy == total)
        {
            return AggregateHealth.Healthy;
        }

        return serving * 2 > total ? AggregateHealth.Degraded : AggregateHealth.Unhealthy;
    }
}
