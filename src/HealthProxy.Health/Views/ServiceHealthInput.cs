namespace HealthProxy.Health.Views;

/// <summary>What the views need to know of one service (a gateway cluster) at one moment.</summary>
/// <param name="Service">The service's id.</param>
/// <param name="Category">Its category; null or empty puts it in <see cref="HealthViewBuilder.Uncategorized"/>.</param>
/// <param name="Healthy">How many of its instances are healthy.</param>
/// <param name="Total">How many instances it has.</param>
/// <param name="Serving">Whether it can take traffic now (an instance is eligible for reads).</param>
/// <param name="DependsOn">The services it depends on (ids of other services).</param>
public sealed record ServiceHealthInput(string Service, string? Category, int Healthy, int Total, bool Serving, IReadOnlyCollection<string> DependsOn);
