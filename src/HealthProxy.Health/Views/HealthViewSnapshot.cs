using System.Collections.Immutable;

namespace HealthProxy.Health.Views;

/// <summary>
/// The aggregated views at one moment: each service, each category, the whole, the dependency graph
/// and the failures spreading through it. Immutable: readers take the current instance and use it.
/// </summary>
public sealed record HealthViewSnapshot
{
    /// <summary>No services.</summary>
    public static HealthViewSnapshot Empty { get; } = new();

    /// <summary>Increases with every change.</summary>
    public long Version { get; init; }

    /// <summary>Each service by id.</summary>
    public ImmutableDictionary<string, ServiceHealthView> Services { get; init; } =
        ImmutableDictionary.Create<string, ServiceHealthView>(StringComparer.Ordinal);

    /// <summary>Each category with at least one service.</summary>
    public ImmutableDictionary<string, GroupHealthView> Categories { get; init; } =
        ImmutableDictionary.Create<string, GroupHealthView>(StringComparer.Ordinal);

    /// <summary>All services judged together.</summary>
    public GroupHealthView Overall { get; init; } = GroupHealthView.Empty;

    /// <summary>Who depends on whom.</summary>
    public DependencyGraph Graph { get; init; } = DependencyGraph.Empty;

    /// <summary>The services that cannot serve (see <see cref="HealthAggregation.Service(int, int, int)"/>).</summary>
    public ImmutableSortedSet<string> Unhealthy { get; init; } = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    /// <summary>Each root failure (an unhealthy service no other unhealthy service explains) and its blast radius.</summary>
    public ImmutableDictionary<string, CascadingFailure> Cascades { get; init; } =
        ImmutableDictionary.Create<string, CascadingFailure>(StringComparer.Ordinal);

    /// <summary>The potentially affected services, each with the root failures that reach it.</summary>
    public ImmutableDictionary<string, ImmutableArray<string>> AffectedBy { get; init; } =
        ImmutableDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal);
}
