namespace HealthProxy.Consul;

/// <summary>The answer to a read query plus the blocking-query metadata Consul sends in headers.</summary>
/// <typeparam name="T">The body's type.</typeparam>
/// <param name="Value">The parsed body.</param>
/// <param name="Index"><c>X-Consul-Index</c>, the index to send with the next blocking query; 0 when the header was missing.</param>
/// <param name="KnownLeader"><c>X-Consul-KnownLeader</c>: whether the answering server knew a leader.</param>
/// <param name="LastContact"><c>X-Consul-LastContact</c>: how long since the answering server heard from the leader (zero on the leader).</param>
public sealed record ConsulQueryResult<T>(T Value, ulong Index, bool KnownLeader, TimeSpan LastContact);
