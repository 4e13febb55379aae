namespace HealthProxy.Health.Views;

/// <summary>A group of services (a category, or all of them) judged together.</summary>
/// <param name="Health">The group's health (see <see cref="HealthAggregation.GroupServices(int, int, int)"/>).</param>
/// <param name="Healthy">Member services whose instances are all healthy.</param>
/// <param name="Serving">Member services with a healthy majority (healthy or degraded).</param>
/// <param name="Total">Member services that have instances (services with none are not judged).</param>
public sealed record GroupHealthView(AggregateHealth Health, int Healthy, int Serving, int Total)
{
    /// <summary>The view of an empty group.</summary>
    public static GroupHealthView Empty { get; } = new(AggregateHealth.Unknown, 0, 0, 0);

    internal GroupHealthView Add(AggregateHealth member, int sign)
    {
        if (member == AggregateHealth.Unknown)
        {
            return this;
        }

        var healthy = Healthy + (member == AggregateHealth.Healthy ? sign : 0);
        var serving = Serving + (member is AggregateHealth.Healthy or AggregateHealth.Degraded ? sign : 0);
        var total = Total + sign;
        return new GroupHealthView(HealthAggregation.GroupServices(healthy, serving, total), healthy, serving, total);
    }
}
