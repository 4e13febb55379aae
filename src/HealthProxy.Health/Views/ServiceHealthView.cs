namespace HealthProxy.Health.Views;

/// <summary>One service in a <see cref="HealthViewSnapshot"/>.</summary>
/// <param name="Service">The service's id.</param>
/// <param name="Category">Its category.</param>
/// <param name="Health">Its instances judged as a group (all healthy, more than half, or not).</param>
/// <param name="Healthy">Healthy instances.</param>
/// <param name="Total">All instances.</param>
/// <param name="Serving">Whether an instance can take reads now.</param>
/// <param name="Since">When <paramref name="Health"/> last changed.</param>
public sealed record ServiceHealthView(string Service, string Category, AggregateHealth Health, int Healthy, int Total, bool Serving, DateTimeOffset Since);
