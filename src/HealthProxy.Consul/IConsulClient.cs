using HealthProxy.Consul.Api;

namespace HealthProxy.Consul;

/// <summary>
/// The subset of Consul's HTTP API HealthProxy uses. Every failure surfaces as a
/// <see cref="ConsulException"/> (cancellation by the caller stays an <see cref="OperationCanceledException"/>).
/// </summary>
public interface IConsulClient
{
    /// <summary>
    /// <c>GET /v1/health/service/:service</c>: every instance of <paramref name="service"/> with its service
    /// and node checks, critical ones included (the client never sends <c>passing</c>).
    /// </summary>
    Task<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> GetHealthServiceAsync(string service, HealthServiceQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary><c>GET /v1/catalog/services</c>: service names and the union of their tags.</summary>
    Task<ConsulQueryResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default);

    /// <summary><c>PUT /v1/agent/service/register</c>; re-registering keeps the current check status.</summary>
    Task RegisterServiceAsync(ConsulServiceRegistration registration, bool replaceExistingChecks = false, CancellationToken cancellationToken = default);

    /// <summary><c>PUT /v1/agent/service/deregister/:service_id</c>: removes the instance and its checks.</summary>
    Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default);

    /// <summary><c>PUT /v1/agent/check/update/:check_id</c>: sets a TTL check's status and output and restarts its timer.</summary>
    Task UpdateTtlCheckAsync(string checkId, ConsulCheckStatus status, string? output = null, CancellationToken cancellationToken = default);

    /// <summary><c>PUT /v1/agent/service/maintenance/:service_id?enable=true</c>: puts the instance in maintenance (it drains).</summary>
    Task EnableServiceMaintenanceAsync(string serviceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary><c>PUT /v1/agent/service/maintenance/:service_id?enable=false</c>: takes the instance out of maintenance.</summary>
    Task DisableServiceMaintenanceAsync(string serviceId, CancellationToken cancellationToken = default);
}
