namespace HealthProxy.Gateway.Diagnostics;

/// <summary>
/// Health values other features publish for the gauges <c>healthproxy.service.health</c>,
/// <c>healthproxy.dependency.health</c> and <c>healthproxy.category.health</c> (1 = serving, 0 = not).
/// A published service or dependency replaces what the gateway computes for the same name.
/// </summary>
/// <remarks>
/// Meant for the aggregated views (service, category, dependency graph): call the setters when a view
/// changes, never per request. Names become label values, so keep them bounded (service, dependency and
/// category names from config or the registry). Threading: one lock; writes are rare, reads are scrapes.
/// </remarks>
internal sealed class ServiceHealthGauges
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Service, string Dependency), Entry> _dependencies = [];
    private readonly Dictionary<string, Entry> _categories = new(StringComparer.Ordinal);

    /// <summary>Publishes a service's health: <paramref name="serving"/> is true when healthy or degraded.</summary>
    public void SetService(string service, bool serving, string? category = null, bool critical = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        lock (_lock)
        {
            _services[service] = new Entry(serving, category ?? "", critical);
        }
    }

    /// <summary>Publishes one dependency of a service: <paramref name="serving"/> is true when healthy or degraded.</summary>
    public void SetDependency(string service, string dependency, bool serving, bool critical)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentException.ThrowIfNullOrEmpty(dependency);
        lock (_lock)
        {
            _dependencies[(service, dependency)] = new Entry(serving, "", critical);
        }
    }

    /// <summary>Publishes a category's aggregate: <paramref name="serving"/> is false only when it is unhealthy.</summary>
    public void SetCategory(string category, bool serving, bool critical)
    {
        ArgumentException.ThrowIfNullOrEmpty(category);
        lock (_lock)
        {
            _categories[category] = new Entry(serving, "", critical);
        }
    }

    /// <summary>Forgets a published service and its dependencies (their series end).</summary>
    public void RemoveService(string service)
    {
        lock (_lock)
        {
            _services.Remove(service);
            foreach (var key in _dependencies.Keys.Where(k => k.Service == service).ToList())
            {
                _dependencies.Remove(key);
            }
        }
    }

    /// <summary>Forgets a published category.</summary>
    public void RemoveCategory(string category)
    {
        lock (_lock)
        {
            _categories.Remove(category);
        }
    }

    internal List<KeyValuePair<string, Entry>> Services()
    {
        lock (_lock)
        {
            return [.. _services];
        }
    }

    internal List<KeyValuePair<(string Service, string Dependency), Entry>> Dependencies()
    {
        lock (_lock)
        {
            return [.. _dependencies];
        }
    }

    internal List<KeyValuePair<string, Entry>> Categories()
    {
        lock (_lock)
        {
            return [.. _categories];
        }
    }

    internal readonly record struct Entry(bool Serving, string Category, bool Critical);
}
