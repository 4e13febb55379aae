using System.Collections.Concurrent;
using HealthProxy.Consul.Api;

namespace HealthProxy.Consul.Tests.Discovery;

/// <summary>A Consul client that answers health queries from a script and records what it was asked; blocks when the script runs out.</summary>
internal sealed class ScriptedConsulClient : IConsulClient
{
    private readonly ConcurrentQueue<Func<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>>> _script = new();

    public ConcurrentQueue<HealthServiceQuery> Queries { get; } = new();

    public void Answer(ulong index, params ConsulServiceEntry[] entries) =>
        _script.Enqueue(() => new ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>(entries, index, KnownLeader: true, LastContact: TimeSpan.Zero));

    public void Fail(ConsulErrorKind kind) =>
        _script.Enqueue(() => throw new ConsulException(kind, $"scripted {kind}"));

    public void Throw(Exception exception) =>
        _script.Enqueue(() => throw exception);

    public static ConsulServiceEntry Entry(string serviceId, string status) => new()
    {
        Node = new ConsulNode { Node = "n1", Address = "10.0.0.1" },
        Service = new ConsulAgentService { ID = serviceId, Service = "web", Port = 80 },
        Checks = [new ConsulHealthCheck { CheckID = "service:" + serviceId, Status = status, ServiceID = serviceId }],
    };

    public async Task<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> GetHealthServiceAsync(string service, HealthServiceQuery? query = null, CancellationToken cancellationToken = default)
    {
        Queries.Enqueue(query ?? new HealthServiceQuery());
        if (_script.TryDequeue(out var next))
        {
            return next();
        }

        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public Task<ConsulQueryResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task RegisterServiceAsync(ConsulServiceRegistration registration, bool replaceExistingChecks = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task UpdateTtlCheckAsync(string checkId, ConsulCheckStatus status, string? output = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task EnableServiceMaintenanceAsync(string serviceId, string? reason = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task DisableServiceMaintenanceAsync(string serviceId, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
