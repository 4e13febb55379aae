using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Consul.Simulator;

/// <summary>
/// An in-process Consul agent API (the subset in <c>shared/consul-api/NOTES.md</c>) on real Kestrel at
/// 127.0.0.1 on a free port, plus control hooks for tests: set statuses directly, register instances on
/// any node, inject faults, rewind the index, slow answers down, kill and restart the listener.
/// </summary>
/// <remarks>
/// The catalog lives apart from the listener, so <see cref="StopAsync"/> then <see cref="RestartAsync"/> is
/// an agent that went away and came back with its state (same port). Blocking queries block on the index of
/// the queried service; TTL expiry, blocking waits and <see cref="ResponseDelay"/> use the options' clock.
/// </remarks>
public sealed class ConsulSimulator : IAsyncDisposable
{
    private readonly SimulatorState _state;
    private readonly SimulatorApi _api;
    private readonly ConcurrentQueue<SimulatorRequest> _requests = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private WebApplication? _app;
    private CancellationTokenSource? _stopping;
    private volatile SimulatorFault _fault;
    private long _responseDelayTicks;
    private int _blockedQueries;
    private readonly ConcurrentDictionary<string, int> _blockedByService = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimulatedDatacenter> _datacenters = new(StringComparer.Ordinal);

    private ConsulSimulator(ConsulSimulatorOptions options)
    {
        _state = new SimulatorState(options);
        _api = new SimulatorApi(_state, this);
    }

    /// <summary>The agent's base address, <c>http://127.0.0.1:&lt;port&gt;/</c>; stays the same across restarts.</summary>
    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>The port the listener is bound to.</summary>
    public int Port { get; private set; }

    /// <summary>Whether the listener is up.</summary>
    public bool IsRunning => _app is not null;

    /// <summary>The node the agent endpoints register on.</summary>
    public string AgentNode => _state.Options.AgentNode;

    /// <summary>The current Raft index.</summary>
    public ulong Index => _state.Index;

    /// <summary>A fault injected into the read endpoints; <see cref="SimulatorFault.None"/> by default.</summary>
    public SimulatorFault Fault
    {
        get => _fault;
        set => _fault = value;
    }

    /// <summary>Extra delay before a read is answered (after blocking); zero by default.</summary>
    public TimeSpan ResponseDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _responseDelayTicks));
        set => Interlocked.Exchange(ref _responseDelayTicks, value.Ticks);
    }

    /// <summary>How many blocking queries are waiting right now (lets a test know a watcher is parked before it changes something).</summary>
    public int BlockedQueries => Volatile.Read(ref _blockedQueries);

    /// <summary>How many blocking queries on <c>/v1/health/service/&lt;service&gt;</c> are waiting right now.</summary>
    public int BlockedQueriesFor(string service) => _blockedByService.TryGetValue(service, out var count) ? count : 0;

    /// <summary>The requests answered so far, oldest first.</summary>
    public IReadOnlyList<SimulatorRequest> Requests => [.. _requests];

    /// <summary>Starts a simulator on 127.0.0.1 and a free port.</summary>
    public static async Task<ConsulSimulator> StartAsync(ConsulSimulatorOptions? options = null)
    {
        var simulator = new ConsulSimulator(options ?? new ConsulSimulatorOptions());
        await simulator.ListenAsync(0).ConfigureAwait(false);
        return simulator;
    }

    /// <summary>Kills the listener: blocked queries and open connections are dropped, new ones refused. State is kept.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_app is null)
            {
                return;
            }

            await _stopping!.CancelAsync().ConfigureAwait(false);
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
            _app = null;
            _stopping = null;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Starts the listener again on the same port, with the same state.</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_app is null)
            {
                await ListenCoreAsync(Port).ConfigureAwait(false);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Registers an instance directly, on any node (created with <see cref="SimulatedService.NodeAddress"/> when new).</summary>
    public void RegisterService(SimulatedService service) => _state.RegisterDirect(service);

    /// <summary>Removes an instance and its checks; false when there was none.</summary>
    public bool DeregisterService(string serviceId, string? node = null) => _state.Deregister(node ?? AgentNode, serviceId);

    /// <summary>Sets any check's status (and output when given), as if the check ran.</summary>
    /// <exception cref="InvalidOperationException">No such check on that node.</exception>
    public void SetCheckStatus(string checkId, string status, string? output = null, string? node = null) => _state.SetCheckStatusDirect(checkId, status, output, node);

    /// <summary>
    /// Adds another datacenter, with its own catalog, index and fault, that reads with <c>?dc=</c><paramref name="name"/>
    /// answer from (Consul forwards them over the WAN). A <c>?dc=</c> naming neither this agent's datacenter nor an
    /// added one answers <c>500 No path to datacenter</c>, as Consul does.
    /// </summary>
    public SimulatedDatacenter AddDatacenter(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = _state.Options with { Datacenter = name, AgentNode = $"{name}-agent" };
        var added = new SimulatedDatacenter(new SimulatorState(options));
        if (name == _state.Options.Datacenter || !_datacenters.TryAdd(name, added))
        {
            added.State.Dispose();
            throw new InvalidOperationException($"Datacenter '{name}' exists already.");
        }

        return added;
    }

    internal bool TryGetDatacenter(string name, out SimulatedDatacenter datacenter) => _datacenters.TryGetValue(name, out datacenter!);

    /// <summary>Puts an instance in or out of maintenance (<c>_service_maintenance:&lt;id&gt;</c>).</summary>
    /// <exception cref="InvalidOperationException">No such instance on that node.</exception>
    public void SetServiceMaintenance(string serviceId, bool enable, string? reason = null, string? node = null)
    {
        if (!_state.SetServiceMaintenance(node ?? AgentNode, serviceId, enable, reason))
        {
            throw new InvalidOperationException($"No service '{serviceId}' on node '{node ?? AgentNode}'.");
        }
    }

    /// <summary>Puts a node in or out of maintenance (<c>_node_maintenance</c> on every instance of it).</summary>
    public void SetNodeMaintenance(string node, bool enable, string? reason = null) => _state.SetNodeMaintenance(node, enable, reason);

    /// <summary>Makes the index go backwards (a snapshot restore): queries blocked on a higher index wait out their wait, then see the lower one.</summary>
    public void RewindIndex(ulong index) => _state.RewindIndex(index);

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests() => _requests.Clear();

    /// <summary>Stops the listener for good.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _state.Dispose();
        foreach (var datacenter in _datacenters.Values)
        {
            datacenter.State.Dispose();
        }

        _lifecycle.Dispose();
    }

    internal void Record(SimulatorRequest request) => _requests.Enqueue(request);

    internal void QueryBlocked(int delta, string? service = null)
    {
        Interlocked.Add(ref _blockedQueries, delta);
        if (service is not null)
        {
            _blockedByService.AddOrUpdate(service, delta, (_, count) => count + delta);
        }
    }

    private async Task ListenAsync(int port)
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await ListenCoreAsync(port).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task ListenCoreAsync(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
        });
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        app.Run(context => _api.HandleAsync(context, stopping.Token));
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
        _app = app;
        _stopping = stopping;
    }
}
