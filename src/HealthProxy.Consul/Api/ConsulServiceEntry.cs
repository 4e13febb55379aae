namespace HealthProxy.Consul.Api;

/// <summary>One instance in the answer of <c>GET /v1/health/service/:service</c>.</summary>
public sealed record ConsulServiceEntry
{
    /// <summary>The node the instance runs on.</summary>
    public ConsulNode? Node { get; init; }

    /// <summary>The service instance.</summary>
    public ConsulAgentService? Service { get; init; }

    /// <summary>The instance's checks and its node's checks (those have an empty <c>ServiceID</c>).</summary>
    public IReadOnlyList<ConsulHealthCheck>? Checks { get; init; }
}
