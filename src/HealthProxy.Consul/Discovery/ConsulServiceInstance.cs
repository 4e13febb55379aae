using HealthProxy.Health;

namespace HealthProxy.Consul.Discovery;

/// <summary>
/// One instance of a service as HealthProxy sees it: where it is and its five-state health, derived from
/// Consul's checks and refined by the status document the service publishes in its TTL check's output.
/// Equality compares contents, collections included.
/// </summary>
public sealed record ConsulServiceInstance
{
    /// <summary>The identity: <c>&lt;node&gt;/&lt;service id&gt;</c> (service IDs are unique per agent only).</summary>
    public required string Id { get; init; }

    /// <summary>The node's name.</summary>
    public required string Node { get; init; }

    /// <summary>The service instance ID on its agent.</summary>
    public required string ServiceId { get; init; }

    /// <summary>The service name.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The address: the service's, or the node's when the service has none.</summary>
    public required string Address { get; init; }

    /// <summary>The port.</summary>
    public int Port { get; init; }

    /// <summary>The tags, in Consul's order.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The service metadata.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; init; } = EmptyMeta;

    /// <summary>The category from <c>Service.Meta["category"]</c>, when present.</summary>
    public string? Category { get; init; }

    /// <summary>
    /// Consul's <c>Weights.Passing</c>: the instance's base weight (Consul's default 1). Consul's own proxies take a
    /// weight below 1 as unhealthy, and so does <see cref="State"/>.
    /// </summary>
    public int WeightPassing { get; init; } = 1;

    /// <summary>Consul's <c>Weights.Warning</c>: its weight while a check warns (0 = no reads; Consul's default 1).</summary>
    public int WeightWarning { get; init; } = 1;

    /// <summary>The state routing should use: the worse of <see cref="CheckState"/> and the published status.</summary>
    public HealthState State { get; init; }

    /// <summary>The state derived from Consul's checks alone (maintenance → draining, critical → unhealthy, warning → degraded).</summary>
    public HealthState CheckState { get; init; }

    /// <summary>The status document the service published in a TTL check's output, when one parsed.</summary>
    public StatusDocument? Published { get; init; }

    /// <summary>The published dependencies; empty when nothing was published.</summary>
    public IReadOnlyDictionary<string, DependencyStatus> Dependencies => Published?.Dependencies ?? EmptyDependencies;

    private static readonly IReadOnlyDictionary<string, string> EmptyMeta = new Dictionary<string, string>(StringComparer.Ordinal);
    private static readonly IReadOnlyDictionary<string, DependencyStatus> EmptyDependencies = new Dictionary<string, DependencyStatus>(StringComparer.Ordinal);

    /// <summary>Compares every field, collections by content.</summary>
    public bool Equals(ConsulServiceInstance? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Id == other.Id
                && Node == other.Node
                && ServiceId == other.ServiceId
                && ServiceName == other.ServiceName
                && Address == other.Address
                && Port == other.Port
                && WeightPassing == other.WeightPassing
                && WeightWarning == other.WeightWarning
                && Category == other.Category
                && State == other.State
                && CheckState == other.CheckState
                && Tags.SequenceEqual(other.Tags)
                && SameEntries(Meta, other.Meta)
                && SamePublished(Published, other.Published)));

    /// <summary>A hash of the identity, address and state.</summary>
    public override int GetHashCode() => HashCode.Combine(Id, Address, Port, State, CheckState);

    private static bool SamePublished(StatusDocument? left, StatusDocument? right) =>
        (left is null && right is null)
        || (left is not null && right is not null
            && left.Status == right.Status
            && left.Own == right.Own
            && left.Service == right.Service
            && SameEntries(left.Dependencies, right.Dependencies));

    private static bool SameEntries<TValue>(IReadOnlyDictionary<string, TValue> left, IReadOnlyDictionary<string, TValue> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var otherValue) || !EqualityComparer<TValue>.Default.Equals(value, otherValue))
            {
                return false;
            }
        }

        return true;
    }
}
