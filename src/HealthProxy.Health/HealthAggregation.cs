namespace HealthProxy.Health;

/// <summary>
/// The rules that combine states, each defined once: the parts of one thing, the instances of a service, the
/// services of a group (a category, the whole system), and what "serving" means for every output.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>level</term><description>healthy / degraded / unhealthy</description></listheader>
/// <item><term>service (its instances)</term><description>all healthy / some instance takes reads (healthy, or degraded) / none takes reads</description></item>
/// <item><term>group (its services)</term><description>all healthy / more than half serving / half or fewer serving</description></item>
/// </list>
/// A service or group serves while it is healthy or degraded (<see cref="IsServing"/>). Empty groups are unknown and not judged.
/// </remarks>
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
    /// Judges a service by its instances: all healthy -> healthy; some instance still takes reads (a healthy
    /// one, or only degraded ones) -> degraded; none takes reads -> unhealthy; no instances -> unknown.
    /// </summary>
    /// <param name="healthy">Instances that take reads and writes.</param>
    /// <param name="readEligible">Instances that take reads (the healthy ones included).</param>
    /// <param name="total">All instances.</param>
    public static AggregateHealth Service(int healthy, int readEligible, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(healthy);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(healthy, readEligible);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(readEligible, total);
        if (total == 0)
        {
            return AggregateHealth.Unknown;
        }

        if (healthy == total)
        {
            return AggregateHealth.Healthy;
        }

        return readEligible > 0 ? AggregateHealth.Degraded : AggregateHealth.Unhealthy;
    }

    /// <summary>Judges a service by its instances' states (see <see cref="Service(int, int, int)"/>).</summary>
    public static AggregateHealth Service(IEnumerable<HealthState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        int healthy = 0, reads = 0, total = 0;
        foreach (var state in states)
        {
            total++;
            healthy += state == HealthState.Healthy ? 1 : 0;
            reads += state.Accepts(RequestKind.Read) ? 1 : 0;
        }

        return Service(healthy, reads, total);
    }

    /// <summary>
    /// Judges a group of <em>services</em> (a category, the whole system) by the reference article's majority
    /// rule: every member healthy -> healthy; more than half serving (healthy or degraded) -> degraded;
    /// otherwise unhealthy; no members -> unknown.
    /// </summary>
    /// <remarks>
    /// A degraded service counts as serving: it still answers, so the group is as bad as the share of its
    /// services that can no longer serve, which is what a caller of the whole system feels.
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

    /// <summary>Whether a service or group in <paramref name="health"/> serves: healthy or degraded. Every output's "serving".</summary>
    public static bool IsServing(this AggregateHealth health) => health is AggregateHealth.Healthy or AggregateHealth.Degraded;
}
