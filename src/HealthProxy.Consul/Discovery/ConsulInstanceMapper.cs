using System.Text;
using HealthProxy.Consul.Api;
using HealthProxy.Health;

namespace HealthProxy.Consul.Discovery;

/// <summary>Turns Consul's health entries into <see cref="ConsulServiceInstance"/>s. Pure: no I/O, no clock.</summary>
/// <remarks>
/// The check-derived state follows fabio and <c>api/health.go</c>, with maintenance first: a check whose ID is
/// <c>_node_maintenance</c> or starts with <c>_service_maintenance:</c> makes the instance draining (detected by
/// ID, not by status); otherwise any critical check (node checks such as <c>serfHealth</c> included) makes it
/// unhealthy, any warning degraded, and anything else, no checks included, healthy. An unknown status word
/// counts as critical. Then the first service check whose <c>Output</c> parses as a
/// <see cref="StatusDocument"/> refines it: the worse of the two wins, so a published
/// starting/draining/degraded shows through a passing TTL check.
/// </remarks>
public static class ConsulInstanceMapper
{
    /// <summary>The <c>Service.Meta</c> key that names an instance's category.</summary>
    public const string CategoryMetaKey = "category";

    /// <summary>Outputs longer than this are not parsed (Consul keeps 4096 bytes by default anyway).</summary>
    public const int MaxPublishedOutputBytes = 64 * 1024;

    /// <summary>Maps every entry, ordered by identity.</summary>
    /// <exception cref="ConsulException">An entry is unusable (see <see cref="TryMap"/>), or two entries share an identity (<see cref="ConsulErrorKind.MalformedResponse"/>).</exception>
    public static IReadOnlyList<ConsulServiceInstance> MapAll(IReadOnlyList<ConsulServiceEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var instances = new ConsulServiceInstance[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            instances[i] = TryMap(entries[i], out var instance, out var problem)
                ? instance
                : throw new ConsulException(ConsulErrorKind.MalformedResponse, $"Consul health entry {i} is unusable: {problem}");
        }

        Array.Sort(instances, static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        for (var i = 1; i < instances.Length; i++)
        {
            if (instances[i].Id == instances[i - 1].Id)
            {
                throw new ConsulException(ConsulErrorKind.MalformedResponse, $"Consul listed instance '{instances[i].Id}' twice.");
            }
        }

        return instances;
    }

    /// <summary>
    /// Maps one entry; false (with the reason) when it has no node name or service ID, a port outside 0-65535,
    /// or a null among its tags or checks.
    /// </summary>
    public static bool TryMap(ConsulServiceEntry entry, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConsulServiceInstance? instance, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(entry);
        instance = null;
        if (entry.Node is not { Node: { Length: > 0 } node } nodeInfo)
        {
            problem = "no Node.Node";
            return false;
        }

        if (entry.Service is not { ID: { Length: > 0 } serviceId } service)
        {
            problem = "no Service.ID";
            return false;
        }

        if (service.Port is < 0 or > 65535)
        {
            problem = $"Service.Port {service.Port} is not a TCP port";
            return false;
        }

        if (service.Tags?.Contains(null!) == true)
        {
            problem = "a null in Service.Tags";
            return false;
        }

        var checks = entry.Checks ?? [];
        if (checks.Contains(null!))
        {
            problem = "a null in Checks";
            return false;
        }

        var checkState = StateFromChecks(checks);
        var published = FindPublished(checks, serviceId);
        var meta = service.Meta ?? new Dictionary<string, string>(StringComparer.Ordinal);
        instance = new ConsulServiceInstance
        {
            Id = node + "/" + serviceId,
            Node = node,
            ServiceId = serviceId,
            ServiceName = service.Service ?? string.Empty,
            Address = string.IsNullOrEmpty(service.Address) ? nodeInfo.Address ?? string.Empty : service.Address,
            Port = service.Port,
            Tags = service.Tags ?? [],
            Meta = meta,
            Category = meta.TryGetValue(CategoryMetaKey, out var category) && !string.IsNullOrEmpty(category) ? category : null,
            CheckState = checkState,
            State = (published is null ? checkState : checkState.Worst(published.Status))
                .Worst(service.Weights is { Passing: < 1 } ? HealthState.Unhealthy : HealthState.Healthy),
            WeightPassing = service.Weights?.Passing ?? 1,
            WeightWarning = service.Weights?.Warning ?? 1,
            Published = published,
        };
        problem = null;
        return true;
    }

    /// <summary>The state Consul's checks alone give an instance (see the class remarks).</summary>
    public static HealthState StateFromChecks(IEnumerable<ConsulHealthCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var state = HealthState.Healthy;
        foreach (var check in checks)
        {
            if (IsMaintenance(check.CheckID))
            {
                return HealthState.Draining;
            }

            state = state.Worst(StateOf(check.Status));
        }

        return state;
    }

    /// <summary>The state one check status word gives: passing healthy, warning degraded, critical (or an unknown word) unhealthy.</summary>
    public static HealthState StateOf(string? status) => status switch
    {
        ConsulCheckStatusNames.Passing => HealthState.Healthy,
        ConsulCheckStatusNames.Warning => HealthState.Degraded,
        _ => HealthState.Unhealthy,
    };

    /// <summary>The state a check status gives (see <see cref="StateOf(string)"/>).</summary>
    public static HealthState StateOf(ConsulCheckStatus status) => StateOf(status.ToWireName());

    /// <summary>Whether a check ID is one of Consul's maintenance checks.</summary>
    public static bool IsMaintenance(string? checkId) =>
        checkId is not null
        && (checkId == ConsulCheckStatusNames.NodeMaintenanceCheckId
            || checkId.StartsWith(ConsulCheckStatusNames.ServiceMaintenanceCheckIdPrefix, StringComparison.Ordinal));

    private static StatusDocument? FindPublished(IReadOnlyList<ConsulHealthCheck> checks, string serviceId)
    {
        foreach (var check in checks)
        {
            if (check.ServiceID != serviceId
                || IsMaintenance(check.CheckID)
                || string.IsNullOrEmpty(check.Output)
                || check.Output.Length > MaxPublishedOutputBytes
                || !check.Output.AsSpan().TrimStart().StartsWith('{'))
            {
                continue;
            }

            if (StatusDocumentJson.TryParse(Encoding.UTF8.GetBytes(check.Output), out var document) && document is not null)
            {
                return document;
            }
        }

        return null;
    }
}
