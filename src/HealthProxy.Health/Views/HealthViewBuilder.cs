using System.Collections.Immutable;

namespace HealthProxy.Health.Views;

/// <summary>
/// Keeps the aggregated views current, one service change at a time, and finds the cascading
/// failures each change starts.
/// </summary>
/// <remarks>
/// <para>
/// Incremental: a change takes the service's old contribution out of its category and the overall
/// counts and puts the new one in, and replaces one entry of immutable dictionaries (O(log n)), so
/// one service's change never rescans a thousand. Blast radii are recomputed only when the set of
/// unhealthy services or the graph changes: one breadth-first walk over reverse edges per unhealthy
/// service.
/// </para>
/// <para>
/// A root failure is an unhealthy service that is not itself in the blast radius of another
/// unhealthy service (services on one cycle that are all down are each a root). A cascade is
/// reported as new only when its root was not already in another failure's blast radius. Not thread-safe:
/// the caller serialises changes and publishes <see cref="Current"/>.
/// </para>
/// </remarks>
public sealed class HealthViewBuilder
{
    /// <summary>The category of services that name none.</summary>
    public const string Uncategorized = "uncategorized";

    private static readonly IReadOnlyList<CascadingFailure> NoCascades = [];
    private readonly Dictionary<string, int> _categoryMembers = new(StringComparer.Ordinal);

    /// <summary>The views as of the last change.</summary>
    public HealthViewSnapshot Current { get; private set; } = HealthViewSnapshot.Empty;

    /// <summary>Adds or replaces one service.</summary>
    public HealthViewUpdate Apply(ServiceHealthInput input, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(input);
        var before = Current;
        before.Services.TryGetValue(input.Service, out var old);
        var health = HealthAggregation.Service(input.Healthy, input.ReadEligible, input.Total);
        var category = string.IsNullOrWhiteSpace(input.Category) ? Uncategorized : input.Category.Trim();
        var since = old is not null && old.Health == health ? old.Since : now;
        var degradedBefore = old is null ? TimeSpan.Zero : old.Health == health ? old.DegradedBefore : old.DegradedTime(now);
        var view = new ServiceHealthView(input.Service, category, input.Critical, health, input.Healthy, input.ReadEligible, input.Total, since, degradedBefore);
        var graph = before.Graph.WithDependencies(input.Service, input.DependsOn);
        if (view == old && ReferenceEquals(graph, before.Graph))
        {
            return new HealthViewUpdate(before, Changed: false, NoCascades);
        }

        var categories = before.Categories;
        var overall = before.Overall;
        if (old is not null)
        {
            categories = Leave(categories, old);
            overall = overall.Add(old, -1);
        }

        categories = Join(categories, view);
        overall = overall.Add(view, +1);
        var unhealthy = health == AggregateHealth.Unhealthy ? before.Unhealthy.Add(input.Service) : before.Unhealthy.Remove(input.Service);
        var next = before with
        {
            Version = before.Version + 1,
            Services = before.Services.SetItem(input.Service, view),
            Categories = categories,
            Overall = overall,
            Graph = graph,
            Unhealthy = unhealthy,
        };
        var becameUnhealthy = health == AggregateHealth.Unhealthy && old?.Health != AggregateHealth.Unhealthy;
        return Finish(before, next, becameUnhealthy ? input.Service : null);
    }

    /// <summary>Removes one service (its dependents keep their edges to it).</summary>
    public HealthViewUpdate Remove(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var before = Current;
        if (!before.Services.TryGetValue(service, out var old))
        {
            return new HealthViewUpdate(before, Changed: false, NoCascades);
        }

        var next = before with
        {
            Version = before.Version + 1,
            Services = before.Services.Remove(service),
            Categories = Leave(before.Categories, old),
            Overall = before.Overall.Add(old, -1),
            Graph = before.Graph.WithDependencies(service, []),
            Unhealthy = before.Unhealthy.Remove(service),
        };
        return Finish(before, next, newlyUnhealthy: null);
    }

    private HealthViewUpdate Finish(HealthViewSnapshot before, HealthViewSnapshot next, string? newlyUnhealthy)
    {
        IReadOnlyList<CascadingFailure> started = NoCascades;
        if (!ReferenceEquals(next.Graph, before.Graph) || !next.Unhealthy.SetEquals(before.Unhealthy))
        {
            next = WithCascades(next, before);
            // Already inside a failure's blast radius (downstream, or on its cycle): part of that cascade, not a new one.
            if (newlyUnhealthy is not null
                && !before.AffectedBy.ContainsKey(newlyUnhealthy)
                && next.Cascades.TryGetValue(newlyUnhealthy, out var cascade)
                && cascade.Affected.Length > 0)
            {
                started = [cascade];
            }
        }

        Current = next;
        return new HealthViewUpdate(next, Changed: true, started);
    }

    private static HealthViewSnapshot WithCascades(HealthViewSnapshot next, HealthViewSnapshot before)
    {
        var radius = new Dictionary<string, (IReadOnlyList<string> List, HashSet<string> Set)>(next.Unhealthy.Count, StringComparer.Ordinal);
        foreach (var failed in next.Unhealthy)
        {
            var affected = next.Graph.AffectedBy(failed);
            radius[failed] = (affected, new HashSet<string>(affected, StringComparer.Ordinal));
        }

        var cascades = ImmutableDictionary.CreateBuilder<string, CascadingFailure>(StringComparer.Ordinal);
        var affectedBy = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (failed, (list, set)) in radius)
        {
            // Explained by another failure upstream of it (and not merely on a shared cycle): not a root.
            var explained = radius.Any(other => other.Key != failed && other.Value.Set.Contains(failed) && !set.Contains(other.Key));
            if (explained)
            {
                continue;
            }

            var since = next.Services.TryGetValue(failed, out var view) ? view.Since : default;
            var affected = list.ToImmutableArray();
            cascades[failed] = before.Cascades.TryGetValue(failed, out var previous) && previous.Affected.SequenceEqual(affected)
                ? previous
                : new CascadingFailure(failed, affected, since);
            foreach (var service in list)
            {
                if (!affectedBy.TryGetValue(service, out var roots))
                {
                    affectedBy[service] = roots = [];
                }

                roots.Add(failed);
            }
        }

        return next with
        {
            Cascades = cascades.ToImmutable(),
            AffectedBy = affectedBy.ToImmutableDictionary(p => p.Key, p => p.Value.Order(StringComparer.Ordinal).ToImmutableArray(), StringComparer.Ordinal),
        };
    }

    private ImmutableDictionary<string, GroupHealthView> Join(ImmutableDictionary<string, GroupHealthView> categories, ServiceHealthView view)
    {
        _categoryMembers[view.Category] = _categoryMembers.GetValueOrDefault(view.Category) + 1;
        return categories.SetItem(view.Category, categories.GetValueOrDefault(view.Category, GroupHealthView.Empty).Add(view, +1));
    }

    private ImmutableDictionary<string, GroupHealthView> Leave(ImmutableDictionary<string, GroupHealthView> categories, ServiceHealthView view)
    {
        var members = _categoryMembers.GetValueOrDefault(view.Category) - 1;
        if (members <= 0)
        {
            _categoryMembers.Remove(view.Category);
            return categories.Remove(view.Category);
        }

        _categoryMembers[view.Category] = members;
        return categories.SetItem(view.Category, categories[view.Category].Add(view, -1));
    }
}
