namespace HealthProxy.Health.Views;

/// <summary>The result of one change to the views.</summary>
/// <param name="Snapshot">The views after the change (the same instance when nothing changed).</param>
/// <param name="Changed">Whether anything in the views changed.</param>
/// <param name="NewCascades">
/// Failures this change started: the service became unhealthy, no other unhealthy service explains it,
/// and something depends on it. Each root failure appears here once, when it starts.
/// </param>
public sealed record HealthViewUpdate(HealthViewSnapshot Snapshot, bool Changed, IReadOnlyList<CascadingFailure> NewCascades);
