namespace HealthProxy.Reliability.Tests.Registry;

/// <summary>What goes wrong with Consul in a registry scenario.</summary>
public enum RegistryFault
{
    /// <summary>The agent is gone: connections refused, blocked queries dropped.</summary>
    Down,

    /// <summary>Every read answers late (20 s in the long version).</summary>
    Slow,

    /// <summary>200 with a body that is not JSON.</summary>
    GarbageJson,

    /// <summary>The index drops below what the gateway last saw (a snapshot restore).</summary>
    IndexBackwards,

    /// <summary>200 with a 10 MB body.</summary>
    OversizedBody,

    /// <summary>The ACL flips: 403 whatever the token.</summary>
    AclForbidden,
}
