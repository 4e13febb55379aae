namespace HealthProxy.Health.Views;

/// <summary>What the views need to know of one service (a gateway cluster) at one moment.</summary>
/// <param name="Service">The service's id.</param>
/// <param name="Category">Its category; null or blank puts it in <see cref="HealthViewBuilder.Uncategorized"/>.</param>
/// <param name="Critical">Whether losing it takes the product down.</param>
/// <param name="Healthy">Instances that take reads and writes.</param>
/// <param name="ReadEligible">Instances that take reads (the healthy ones included).</param>
/// <param name="Total">All instances.</param>
/// <param name="DependsOn">The services it depends on (ids of other services).</param>
public sealed record ServiceHealthInput(
    string Service, string? Category, bool Critical, int Healthy, int ReadEligible, int Total, IReadOnlyCollection<string> DependsOn);
