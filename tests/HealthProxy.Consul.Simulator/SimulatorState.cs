using System.Globalization;
using System.Text;

namespace HealthProxy.Consul.Simulator;

/// <summary>
/// The simulated catalog and agent: nodes, services, checks and the Raft index. Every method takes the one
/// lock; every mutation bumps the index, stamps the services it touches and wakes blocked queries. It lives
/// apart from the HTTP host so a stop/start keeps the data, like a restarted agent with persisted state.
/// </summary>
internal sealed class SimulatorState : IDisposable
{
    private static readonly TimeSpan ReapInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MinimumDeregisterAfter = TimeSpan.FromMinutes(1);

    private const string SerfHealth = "serfHealth";
    private const string NodeMaintenance = "_node_maintenance";
    private const string ServiceMaintenancePrefix = "_service_maintenance:";

    private readonly Lock _lock = new();
    private readonly ConsulSimulatorOptions _options;
    private readonly Dictionary<string, SimNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Node, string Id), SimService> _services = [];
    private readonly Dictionary<(string Node, string Id), SimCheck> _checks = [];
    private readonly Dictionary<string, ulong> _serviceIndex = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _reaper;
    private ulong _index;

    public SimulatorState(ConsulSimulatorOptions options)
    {
        _options = options;
        _index = Math.Max(1, options.InitialIndex);
        lock (_lock)
        {
            EnsureNode_NeedsLock(options.AgentNode, options.AgentAddress);
        }

        // Consul's reaper for DeregisterCriticalServiceAfter runs every 30 seconds.
        _reaper = options.TimeProvider.CreateTimer(static state => ((SimulatorState)state!).Reap(), this, ReapInterval, ReapInterval);
    }

    public void Dispose()
    {
        _reaper.Dispose();
        lock (_lock)
        {
            foreach (var check in _checks.Values)
            {
                check.TtlTimer?.Dispose();
            }
        }
    }

    public TimeProvider TimeProvider => _options.TimeProvider;

    public ConsulSimulatorOptions Options => _options;

    public ulong Index
    {
        get
        {
            lock (_lock)
            {
                return _index;
            }
        }
    }

    /// <summary>The index a query about <paramref name="service"/> answers with and blocks on.</summary>
    public ulong IndexFor(string? service)
    {
        lock (_lock)
        {
            return IndexFor_NeedsLock(service);
        }
    }

    /// <summary>Completes at the next mutation.</summary>
    public Task NextChange()
    {
        lock (_lock)
        {
            return _changed.Task;
        }
    }

    public T Read<T>(Func<SimulatorState, T> reader)
    {
        lock (_lock)
        {
            return reader(this);
        }
    }

    /// <summary>Registers a test's instance directly, on any node (created with its node address when new).</summary>
    public void RegisterDirect(SimulatedService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var node = service.Node ?? _options.AgentNode;
        var checks = service.Checks
            .Select(c => new CheckSpec(c.CheckID, c.Name, c.Status, c.Ttl, null, c.Output, c.Ttl is null ? "script" : "ttl", 0))
            .ToList();
        Register(
            node,
            service.NodeAddress,
            new SimService
            {
                Node = node,
                Id = service.ID ?? service.Name,
                Name = service.Name,
                Tags = [.. service.Tags],
                Address = service.Address,
                Port = service.Port,
                Meta = new Dictionary<string, string>(service.Meta, StringComparer.Ordinal),
                WeightPassing = service.WeightPassing,
                WeightWarning = service.WeightWarning,
            },
            checks,
            replaceExistingChecks: false);
    }

    /// <summary>Sets any check's status (and output when given), as if the check ran.</summary>
    /// <exception cref="InvalidOperationException">No such check on that node.</exception>
    public void SetCheckStatusDirect(string checkId, string status, string? output, string? node)
    {
        if (UpdateCheck(node ?? _options.AgentNode, checkId, status, output, ttlOnly: false) != CheckUpdateResult.Updated)
        {
            throw new InvalidOperationException($"No check '{checkId}' on node '{node ?? _options.AgentNode}'.");
        }
    }

    public void Register(string node, string nodeAddress, SimService service, IReadOnlyList<CheckSpec> checks, bool replaceExistingChecks)
    {
        lock (_lock)
        {
            var index = Next_NeedsLock();
            EnsureNode_NeedsLock(node, nodeAddress);
            var key = (node, service.Id);
            if (_services.TryGetValue(key, out var existing) && existing.Name != service.Name)
            {
                Touch_NeedsLock(existing.Name, index);
            }

            var stored = new SimService
            {
                Node = node,
                Id = service.Id,
                Name = service.Name,
                Tags = service.Tags,
                Address = service.Address,
                Port = service.Port,
                Meta = service.Meta,
                WeightPassing = service.WeightPassing,
                WeightWarning = service.WeightWarning,
                CreateIndex = existing?.CreateIndex ?? index,
                ModifyIndex = index,
            };
            _services[key] = stored;

            var keep = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < checks.Count; i++)
            {
                var spec = checks[i];
                var checkId = spec.CheckId ?? (checks.Count == 1 ? $"service:{service.Id}" : $"service:{service.Id}:{i + 1}");
                keep.Add(checkId);
                var checkKey = (node, checkId);
                var maxSize = spec.OutputMaxSize > 0 ? Math.Min(spec.OutputMaxSize, _options.OutputMaxSize) : _options.OutputMaxSize;
                if (_checks.TryGetValue(checkKey, out var old))
                {
                    // Re-registering keeps the current status and output.
                    old.Name = spec.Name ?? old.Name;
                    old.Notes = spec.Notes ?? old.Notes;
                    old.ServiceName = service.Name;
                    old.OutputMaxSize = maxSize;
                    old.DeregisterCriticalAfter = Clamp(spec.DeregisterCriticalAfter);
                    if (old.Ttl != spec.Ttl)
                    {
                        old.TtlTimer?.Dispose();
                        old.TtlTimer = null;
                        old.Ttl = spec.Ttl;
                        StartTtl_NeedsLock(old);
                    }

                    old.ModifyIndex = index;
                    continue;
                }

                var check = new SimCheck
                {
                    Node = node,
                    CheckId = checkId,
                    Name = spec.Name ?? $"Service '{service.Name}' check",
                    Status = spec.Status ?? "critical",
                    Notes = spec.Notes ?? "",
                    Output = Truncate(spec.Output ?? "", maxSize),
                    ServiceId = service.Id,
                    ServiceName = service.Name,
                    Type = spec.Type,
                    Ttl = spec.Ttl,
                    OutputMaxSize = maxSize,
                    DeregisterCriticalAfter = Clamp(spec.DeregisterCriticalAfter),
                    CreateIndex = index,
                    ModifyIndex = index,
                };
                check.CriticalSince = check.Status == "critical" ? _options.TimeProvider.GetTimestamp() : null;
                _checks[checkKey] = check;
                StartTtl_NeedsLock(check);
            }

            if (replaceExistingChecks)
            {
                foreach (var stale in _checks.Values.Where(c => c.Node == node && c.ServiceId == service.Id && !keep.Contains(c.CheckId) && !c.CheckId.StartsWith(ServiceMaintenancePrefix, StringComparison.Ordinal)).ToList())
                {
                    RemoveCheck_NeedsLock(stale);
                }
            }

            Touch_NeedsLock(service.Name, index);
        }
    }

    public bool Deregister(string node, string serviceId)
    {
        lock (_lock)
        {
            if (!_services.Remove((node, serviceId), out var service))
            {
                return false;
            }

            foreach (var check in _checks.Values.Where(c => c.Node == node && c.ServiceId == serviceId).ToList())
            {
                RemoveCheck_NeedsLock(check);
            }

            Touch_NeedsLock(service.Name, Next_NeedsLock());
            return true;
        }
    }

    public bool HasService(string node, string serviceId)
    {
        lock (_lock)
        {
            return _services.ContainsKey((node, serviceId));
        }
    }

    /// <summary>Sets a check's status and output, as the TTL endpoints do (<paramref name="ttlOnly"/>) or a test hook does (any check).</summary>
    public CheckUpdateResult UpdateCheck(string node, string checkId, string status, string? output, bool ttlOnly)
    {
        lock (_lock)
        {
            if (!_checks.TryGetValue((node, checkId), out var check))
            {
                return CheckUpdateResult.UnknownCheck;
            }

            if (ttlOnly && check.Ttl is null)
            {
                return CheckUpdateResult.NotTtl;
            }

            SetStatus_NeedsLock(check, status);
            if (output is not null)
            {
                check.Output = Truncate(output, check.OutputMaxSize);
                check.LastTtlOutput = check.Output;
            }

            if (check.Ttl is { } ttl)
            {
                check.TtlTimer?.Change(ttl, Timeout.InfiniteTimeSpan);
            }

            var index = Next_NeedsLock();
            check.ModifyIndex = index;
            TouchCheck_NeedsLock(check, index);
            return CheckUpdateResult.Updated;
        }
    }

    public bool SetServiceMaintenance(string node, string serviceId, bool enable, string? reason)
    {
        lock (_lock)
        {
            if (!_services.TryGetValue((node, serviceId), out var service))
            {
                return false;
            }

            var checkId = ServiceMaintenancePrefix + serviceId;
            var exists = _checks.TryGetValue((node, checkId), out var existing);
            if (enable == exists)
            {
                return true;
            }

            var index = Next_NeedsLock();
            if (enable)
            {
                _checks[(node, checkId)] = new SimCheck
                {
                    Node = node,
                    CheckId = checkId,
                    Name = "Service Maintenance Mode",
                    Status = "critical",
                    Notes = string.IsNullOrEmpty(reason) ? "Maintenance mode is enabled for this service, but no reason was provided. This is a default message." : reason,
                    ServiceId = serviceId,
                    ServiceName = service.Name,
                    Type = "maintenance",
                    CreateIndex = index,
                    ModifyIndex = index,
                };
            }
            else
            {
                _checks.Remove((node, checkId));
                existing!.TtlTimer?.Dispose();
            }

            Touch_NeedsLock(service.Name, index);
            return true;
        }
    }

    public void SetNodeMaintenance(string node, bool enable, string? reason)
    {
        lock (_lock)
        {
            EnsureNode_NeedsLock(node, "127.0.0.1");
            var exists = _checks.ContainsKey((node, NodeMaintenance));
            if (enable == exists)
            {
                return;
            }

            var index = Next_NeedsLock();
            if (enable)
            {
                _checks[(node, NodeMaintenance)] = new SimCheck
                {
                    Node = node,
                    CheckId = NodeMaintenance,
                    Name = "Node Maintenance Mode",
                    Status = "critical",
                    Notes = string.IsNullOrEmpty(reason) ? "Maintenance mode is enabled for this node, but no reason was provided. This is a default message." : reason,
                    Type = "maintenance",
                    CreateIndex = index,
                    ModifyIndex = index,
                };
            }
            else
            {
                _checks.Remove((node, NodeMaintenance));
            }

            TouchNode_NeedsLock(node, index);
        }
    }

    /// <summary>Makes the index go backwards, like a snapshot restore: blocked queries keep waiting until their wait ends.</summary>
    public void RewindIndex(ulong index)
    {
        lock (_lock)
        {
            _index = Math.Max(1, index);
            foreach (var name in _serviceIndex.Keys.ToList())
            {
                _serviceIndex[name] = Math.Min(_serviceIndex[name], _index);
            }
        }
    }

    // The readers below run under the lock through Read().
    public IEnumerable<SimService> ServicesNamed_NeedsLock(string name) =>
        _services.Values.Where(s => s.Name == name).OrderBy(s => s.Node, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal);

    public IEnumerable<SimService> AllServices_NeedsLock() => _services.Values;

    public SimNode Node_NeedsLock(string name) => _nodes[name];

    /// <summary>The service's checks, then its node's checks (ServiceID "").</summary>
    public IEnumerable<SimCheck> ChecksFor_NeedsLock(SimService service) =>
        _checks.Values
            .Where(c => c.Node == service.Node && (c.ServiceId == service.Id || c.ServiceId.Length == 0))
            .OrderBy(c => c.ServiceId.Length == 0 ? 1 : 0)
            .ThenBy(c => c.CheckId, StringComparer.Ordinal);

    public ulong IndexFor_NeedsLock(string? service) =>
        service is not null && _serviceIndex.TryGetValue(service, out var index) ? index : _index;

    public ulong Index_NeedsLock => _index;

    internal static string Truncate(string output, int maxBytes)
    {
        var total = Encoding.UTF8.GetByteCount(output);
        if (maxBytes <= 0 || total <= maxBytes)
        {
            return output;
        }

        // Consul slices bytes; cut at a character boundary so the text stays valid UTF-8.
        var bytes = Encoding.UTF8.GetBytes(output);
        var cut = maxBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetString(bytes, 0, cut)} ... (captured {maxBytes} of {total} bytes)");
    }

    private void StartTtl_NeedsLock(SimCheck check)
    {
        if (check.Ttl is not { } ttl || ttl <= TimeSpan.Zero)
        {
            return;
        }

        check.TtlTimer = _options.TimeProvider.CreateTimer(static state => ((Action)state!)(), new Action(() => Expire(check)), ttl, Timeout.InfiniteTimeSpan);
    }

    private void Expire(SimCheck check)
    {
        lock (_lock)
        {
            if (!_checks.TryGetValue((check.Node, check.CheckId), out var current) || !ReferenceEquals(current, check))
            {
                return;
            }

            SetStatus_NeedsLock(check, "critical");
            check.Output = check.LastTtlOutput.Length == 0 ? "TTL expired" : "TTL expired (last output before timeout follows): " + check.LastTtlOutput;
            var index = Next_NeedsLock();
            check.ModifyIndex = index;
            TouchCheck_NeedsLock(check, index);
        }
    }

    private void SetStatus_NeedsLock(SimCheck check, string status)
    {
        if (status == "critical" && check.Status != "critical")
        {
            check.CriticalSince = _options.TimeProvider.GetTimestamp();
        }
        else if (status != "critical")
        {
            check.CriticalSince = null;
        }

        check.Status = status;
    }

    private void Reap()
    {
        List<(string Node, string ServiceId)> doomed;
        lock (_lock)
        {
            doomed = _checks.Values
                .Where(c => c is { DeregisterCriticalAfter: { } after, CriticalSince: { } since } && c.ServiceId.Length > 0
                    && _options.TimeProvider.GetElapsedTime(since) >= after)
                .Select(c => (c.Node, c.ServiceId))
                .Distinct()
                .ToList();
        }

        foreach (var (node, serviceId) in doomed)
        {
            Deregister(node, serviceId);
        }
    }

    private static TimeSpan? Clamp(TimeSpan? deregisterAfter) =>
        deregisterAfter is { } after && after < MinimumDeregisterAfter ? MinimumDeregisterAfter : deregisterAfter;

    private void RemoveCheck_NeedsLock(SimCheck check)
    {
        check.TtlTimer?.Dispose();
        _checks.Remove((check.Node, check.CheckId));
    }

    private void EnsureNode_NeedsLock(string node, string address)
    {
        if (!_nodes.ContainsKey(node))
        {
            var index = _index;
            _nodes[node] = new SimNode
            {
                Name = node,
                Address = address,
                Id = DeterministicId(node),
                CreateIndex = index,
                ModifyIndex = index,
            };
            _checks[(node, SerfHealth)] = new SimCheck
            {
                Node = node,
                CheckId = SerfHealth,
                Name = "Serf Health Status",
                Status = "passing",
                Output = "Agent alive and reachable",
                Type = "",
                CreateIndex = index,
                ModifyIndex = index,
            };
        }
    }

    private ulong Next_NeedsLock() => ++_index;

    private void TouchCheck_NeedsLock(SimCheck check, ulong index)
    {
        if (check.ServiceId.Length == 0)
        {
            TouchNode_NeedsLock(check.Node, index);
        }
        else
        {
            Touch_NeedsLock(check.ServiceName, index);
        }
    }

    private void TouchNode_NeedsLock(string node, ulong index)
    {
        foreach (var service in _services.Values.Where(s => s.Node == node))
        {
            _serviceIndex[service.Name] = index;
        }

        Signal_NeedsLock();
    }

    private void Touch_NeedsLock(string service, ulong index)
    {
        _serviceIndex[service] = index;
        Signal_NeedsLock();
    }

    private void Signal_NeedsLock()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private static string DeterministicId(string node)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(node));
        return new Guid(hash.AsSpan(0, 16)).ToString();
    }
}
