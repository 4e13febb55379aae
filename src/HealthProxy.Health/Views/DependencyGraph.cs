using System.Collections.Immutable;

namespace HealthProxy.Health.Views;

/// <summary>
/// Which service depends on which: immutable, with the reverse edges kept beside the forward ones so
/// a blast radius is a walk over dependents, never a scan of every service.
/// </summary>
/// <remarks>
/// <see cref="WithDependencies"/> returns a new graph sharing everything but the changed service's
/// edges (immutable dictionaries: O(k log n) for k changed edges), so one service's change never
/// rebuilds the graph of a thousand.
/// </remarks>
public sealed class DependencyGraph
{
    private static readonly ImmutableSortedSet<string> None = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    private DependencyGraph(
        ImmutableDictionary<string, ImmutableSortedSet<string>> dependencies,
        ImmutableDictionary<string, ImmutableSortedSet<string>> dependents,
        int edgeCount)
    {
        Dependencies = dependencies;
        Dependents = dependents;
        EdgeCount = edgeCount;
    }

    /// <summary>The graph with no services.</summary>
    public static DependencyGraph Empty { get; } = new(
        ImmutableDictionary.Create<string, ImmutableSortedSet<string>>(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, ImmutableSortedSet<string>>(StringComparer.Ordinal),
        0);

    /// <summary>Forward edges: each service to what it depends on (services without dependencies are absent).</summary>
    public ImmutableDictionary<string, ImmutableSortedSet<string>> Dependencies { get; }

    /// <summary>Reverse edges: each service to the services that depend on it directly.</summary>
    public ImmutableDictionary<string, ImmutableSortedSet<string>> Dependents { get; }

    /// <summary>The number of edges.</summary>
    public int EdgeCount { get; }

    /// <summary>Builds a graph from each service's dependencies.</summary>
    public static DependencyGraph Create(IEnumerable<KeyValuePair<string, IEnumerable<string>>> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        var graph = Empty;
        foreach (var (service, dependencies) in edges)
        {
            graph = graph.WithDependencies(service, dependencies);
        }

        return graph;
    }

    /// <summary>What <paramref name="service"/> depends on directly (empty when nothing).</summary>
    public ImmutableSortedSet<string> DependenciesOf(string service) => Dependencies.GetValueOrDefault(service, None);

    /// <summary>What depends on <paramref name="service"/> directly (empty when nothing).</summary>
    public ImmutableSortedSet<string> DependentsOf(string service) => Dependents.GetValueOrDefault(service, None);

    /// <summary>
    /// A graph where <paramref name="service"/> depends on exactly <paramref name="dependencies"/>
    /// (self-edges dropped); this same instance when nothing changes.
    /// </summary>
    public DependencyGraph WithDependencies(string service, IEnumerable<string> dependencies)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(dependencies);
        var wanted = None.Union(dependencies.Where(d => !string.IsNullOrEmpty(d) && d != service));
        var current = DependenciesOf(service);
        if (current.SetEquals(wanted))
        {
            return this;
        }

        var dependents = Dependents;
        foreach (var removed in current.Except(wanted))
        {
            var left = DependentsOf(removed).Remove(service);
            dependents = left.IsEmpty ? dependents.Remove(removed) : dependents.SetItem(removed, left);
        }

        foreach (var added in wanted.Except(current))
        {
            dependents = dependents.SetItem(added, dependents.GetValueOrDefault(added, None).Add(service));
        }

        var forward = wanted.IsEmpty ? Dependencies.Remove(service) : Dependencies.SetItem(service, wanted);
        return new DependencyGraph(forward, dependents, EdgeCount - current.Count + wanted.Count);
    }

    /// <summary>
    /// Every service that depends on <paramref name="failed"/> directly or transitively, each once, in
    /// the order a breadth-first walk meets them (nearest first, ties by name); never <paramref name="failed"/> itself.
    /// </summary>
    /// <remarks>
    /// A walk over reverse edges with a visited set: a cycle ends the walk where it closes, so it can
    /// neither hang nor count a service twice. O(affected services + their edges).
    /// </remarks>
    public IReadOnlyList<string> AffectedBy(string failed)
    {
        ArgumentNullException.ThrowIfNull(failed);
        var affected = new List<string>();
        var visited = new HashSet<string>(StringComparer.Ordinal) { failed };
        var queue = new Queue<string>();
        queue.Enqueue(failed);
        while (queue.TryDequeue(out var current))
        {
            foreach (var dependent in DependentsOf(current))
            {
                if (visited.Add(dependent))
                {
                    affected.Add(dependent);
                    queue.Enqueue(dependent);
                }
            }
        }

        return affected;
    }
}
