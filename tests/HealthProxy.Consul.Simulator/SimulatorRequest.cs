namespace HealthProxy.Consul.Simulator;

/// <summary>One request the simulator answered, for assertions (which parameters went out) and latency measurements.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path.</param>
/// <param name="Query">The raw query string, with its leading <c>?</c> when present.</param>
/// <param name="HadToken">Whether an ACL token was sent (its value is not kept).</param>
/// <param name="StatusCode">The status answered.</param>
/// <param name="AnsweredIndex">The <c>X-Consul-Index</c> answered, when any.</param>
/// <param name="AnsweredAt">A <see cref="System.Diagnostics.Stopwatch"/> timestamp taken just before the body was written.</param>
public sealed record SimulatorRequest(string Method, string Path, string Query, bool HadToken, int StatusCode, ulong? AnsweredIndex, long AnsweredAt);
