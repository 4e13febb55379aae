using HealthProxy.Consul;
using HealthProxy.Consul.Api;

namespace HealthProxy.Gateway.Tests.Discovery;

/// <summary>
/// A Consul that keeps instances per service, answers index 0 at once and parks blocking queries until that
/// service changes (they never time out: a test's clock moves only when it says so), and counts the
/// queries it sees and holds per service. Down, every call fails. A query for another datacenter (<c>?dc=</c>)
/// asks the service named <c>service@datacenter</c>.
/// </summary>
internal sealed class FakeConsul : IConsulClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Service> _services = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failing = new(StringComparer.Ordinal);
    private volatile bool _down;

    /// <summary>Sets the instances (all passing) of <paramref name="service"/> and wakes its parked queries.</summary>
    public void SetInstances(string service, params string[] ids)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            var entry = Get_NeedsLock(service);
            entry.Index++;
            entry.Entries = [.. ids.Select(id => Entry(service, id))];
            changed = entry.Changed;
            entry.Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Every call from now on fails as unreachable; parked queries fail at once.</summary>
    public void GoDown()
    {
        List<TaskCompletionSource> parked;
        lock (_lock)
        {
            _down = true;
            parked = [.. _services.Values.Select(s => s.Changed)];
        }

        foreach (var waiting in parked)
        {
            waiting.TrySetResult();
        }
    }

    /// <summary>Every query for <paramref name="service"/> (as asked: <c>service@datacenter</c> for another datacenter) fails as a server error.</summary>
    public void FailFor(string service)
    {
        lock (_lock)
        {
            _failing.Add(service);
        }
    }

    /// <summary>Blocking queries now parked for <paramref name="service"/>.</summary>
    public int Open(string service)
    {
        lock (_lock)
        {
            return _services.TryGetValue(service, out var s) ? s.Open : 0;
        }
    }

    /// <summary>Queries received so far for <paramref name="service"/>.</summary>
    public int Queries(string service)
    {
        lock (_lock)
        {
            return _services.TryGetValue(service, out var s) ? s.Queries : 0;
        }
    }

    public async Task<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> GetHealthServiceAsync(string service, HealthServiceQuery? query = null, CancellationToken cancellationToken = default)
    {
        service = query?.Datacenter is { } datacenter ? $"{service}@{datacenter}" : service;
        Task changed;
        lock (_lock)
        {
            var entry = Get_NeedsLock(service);
            entry.Queries++;
            if (_down)
            {
                throw new ConsulException(ConsulErrorKind.Unreachable, "Consul is down.");
            }

            if (_failing.Contains(service))
            {
                throw new ConsulException(ConsulErrorKind.HttpError, "No path to datacenter");
            }

            if (query is null || query.Index == 0 || query.Index < entry.Index)
            {
                return Answer_NeedsLock(entry);
            }

            entry.Open++;
            changed = entry.Changed.Task;
        }

        try
        {
            await changed.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_lock)
            {
                _services[service].Open--;
            }
        }

        lock (_lock)
        {
            return _down ? throw new ConsulException(ConsulErrorKind.Unreachable, "Consul went away.") : Answer_NeedsLock(_services[service]);
        }
    }

    public Task<ConsulQueryResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task RegisterServiceAsync(ConsulServiceRegistration registration, bool replaceExistingChecks = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task UpdateTtlCheckAsync(string checkId, ConsulCheckStatus status, string? output = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task EnableServiceMaintenanceAsync(string serviceId, string? reason = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DisableServiceMaintenanceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    private static ConsulServiceEntry Entry(string service, string id) => new()
    {
        Node = new ConsulNode { Node = "n1", Address = "10.0.0.1" },
        Service = new ConsulAgentService { ID = id, Service = service, Port = 80, Meta = new Dictionary<string, string> { ["category"] = "core" } },
        Checks = [new ConsulHealthCheck { CheckID = "service:" + id, Status = ConsulCheckStatusNames.Passing, ServiceID = id }],
    };

    private static ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>> Answer_NeedsLock(Service entry) => new(entry.Entries, entry.Index, true, TimeSpan.Zero);

    private Service Get_NeedsLock(string service)
    {
        if (!_services.TryGetValue(service, out var entry))
        {
            entry = new Service();
            _services[service] = entry;
        }

        return entry;
    }

    private sealed class Service
    {
        public ulong Index { get; set; } = 1;

        public IReadOnlyList<ConsulServiceEntry> Entries { get; set; } = [];

        public TaskCompletionSource Changed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Open { get; set; }

        public int Queries { get; set; }
    }
}
