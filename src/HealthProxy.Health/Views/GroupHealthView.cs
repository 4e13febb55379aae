namespace HealthProxy.Health.Views;

/// <summary>A group of services (a category, or all of them) judged together.</summary>
/// <param name="Health">The group's health (see <see cref="HealthAggregation.GroupServices(int, int, int)"/>).</param>
/// <param name="Healthy">Member services whose instances are all healthy.</param>
/// <param name="Serving">Member services that serve (healthy or degraded).</param>
/// <param name="Total">Member services that have instances (services with none are not judged).</param>
/// <param name="Critical">Member services marked critical, judged or not.</param>
public sealed record GroupHealthView(AggregateHealth Health, int Healthy, int Serving, int Total, int Critical = 0)
{
    /// <summary>The view of an empty group.</summary>
    public static GroupHealthView Empty { get; } = new(AggregateHealth.Unknown, 0, 0, 0);

    /// <summary>Whether the group serves (see <see cref="HealthAggregation.IsServing"/>).</summary>
    public bool IsServing => Health.IsServing();

    internal GroupHealthView Add(ServiceHealthView member, int sign)
    {
        var critical = Critical + (member.Critical ? sign : 0);
        if (member.Health == AggregateHealth.Unknown)
        {
            return this with { Critical = critical };
        }

        var healthy = Healthy + (member.Health == AggregateHealth.Healthy ? sign : 0);
        var serving = Serving + (member.Serving ? sign : 0);
        var total = Total + sign;
        return new GroupHealthView(HealthAggregation.GroupServices(healthy, serving, total), healthy, serving, total, critical);
    }
}
