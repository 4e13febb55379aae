namespace HealthProxy.Consul.Discovery;

/// <summary>
/// Everything Consul said about one service in one answer: immutable, so it can be swapped in atomically
/// and read without locks.
/// </summary>
/// <param name="ServiceName">The service.</param>
/// <param name="Index">The answer's <c>X-Consul-Index</c>.</param>
/// <param name="Instances">The instances, ordered by <see cref="ConsulServiceInstance.Id"/>; critical ones included.</param>
/// <param name="ReceivedAt">When the answer arrived (the watch's <see cref="TimeProvider"/>).</param>
/// <param name="KnownLeader">Whether the answering server knew a leader.</param>
/// <param name="LastContact">How long since the answering server heard from the leader.</param>
public sealed record ConsulServiceSnapshot(
    string ServiceName,
    ulong Index,
    IReadOnlyList<ConsulServiceInstance> Instances,
    DateTimeOffset ReceivedAt,
    bool KnownLeader,
    TimeSpan LastContact)
{
    /// <summary>Whether <paramref name="other"/> lists the same instances with the same contents.</summary>
    public bool HasSameInstances(IReadOnlyList<ConsulServiceInstance> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Instances.SequenceEqual(other);
    }
}
