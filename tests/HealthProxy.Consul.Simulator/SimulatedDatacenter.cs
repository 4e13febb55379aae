namespace HealthProxy.Consul.Simulator;

/// <summary>
/// Another datacenter behind the simulated agent (<see cref="ConsulSimulator.AddDatacenter"/>): reads with
/// <c>?dc=</c> its name answer from its catalog, with its own index (never mix indexes between datacenters) and
/// its own fault. Agent endpoints stay the local agent's, as in Consul.
/// </summary>
public sealed class SimulatedDatacenter
{
    private volatile SimulatorFault _fault;

    internal SimulatedDatacenter(SimulatorState state) => State = state;

    /// <summary>The datacenter's name.</summary>
    public string Name => State.Options.Datacenter;

    /// <summary>The node instances register on when they name none.</summary>
    public string AgentNode => State.Options.AgentNode;

    /// <summary>The datacenter's current Raft index.</summary>
    public ulong Index => State.Index;

    /// <summary>A fault injected into this datacenter's reads only.</summary>
    public SimulatorFault Fault
    {
        get => _fault;
        set => _fault = value;
    }

    internal SimulatorState State { get; }

    /// <summary>Registers an instance in this datacenter.</summary>
    public void RegisterService(SimulatedService service) => State.RegisterDirect(service);

    /// <summary>Removes an instance of this datacenter; false when there was none.</summary>
    public bool DeregisterService(string serviceId, string? node = null) => State.Deregister(node ?? AgentNode, serviceId);

    /// <summary>Sets a check's status in this datacenter, as if the check ran.</summary>
    /// <exception cref="InvalidOperationException">No such check on that node.</exception>
    public void SetCheckStatus(string checkId, string status, string? output = null, string? node = null) => State.SetCheckStatusDirect(checkId, status, output, node);
}
