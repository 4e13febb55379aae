namespace HealthProxy.Health.Views;

/// <summary>One service in a <see cref="HealthViewSnapshot"/>.</summary>
/// <param name="Service">The service's id.</param>
/// <param name="Category">Its category.</param>
/// <param name="Critical">Whether losing it takes the product down.</param>
/// <param name="Health">Its instances judged by <see cref="HealthAggregation.Service(int, int, int)"/>.</param>
/// <param name="Healthy">Instances that take reads and writes.</param>
/// <param name="ReadEligible">Instances that take reads (the healthy ones included).</param>
/// <param name="Total">All instances.</param>
/// <param name="Since">When <paramref name="Health"/> last changed.</param>
/// <param name="DegradedBefore">Time spent degraded before the current state began.</param>
public sealed record ServiceHealthView(
    string Service,
    string Category,
    bool Critical,
    AggregateHealth Health,
    int Healthy,
    int ReadEligible,
    int Total,
    DateTimeOffset Since,
    TimeSpan DegradedBefore)
{
    /// <summary>Whether the service serves (see <see cref="HealthAggregation.IsServing"/>).</summary>
    public bool Serving => Health.IsServing();

    /// <summary>All the time the service has spent degraded, up to <paramref name="now"/>.</summary>
    public TimeSpan DegradedTime(DateTimeOffset now) =>
        Health == AggregateHealth.Degraded && now > Since ? DegradedBefore + (now - Since) : DegradedBefore;
}
