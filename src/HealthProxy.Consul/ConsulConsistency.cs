namespace HealthProxy.Consul;

/// <summary>The consistency mode of Consul read queries.</summary>
public enum ConsulConsistency
{
    /// <summary>The leader answers (Consul's default; a rare stale window during leader changes).</summary>
    Default = 0,

    /// <summary>Any server answers (<c>?stale</c>): may lag, but works without a quorum and spreads load.</summary>
    Stale = 1,
}
