namespace HealthProxy.Consul.Api;

/// <summary>The body of <c>PUT /v1/agent/check/update/:check_id</c>.</summary>
/// <param name="Status"><c>passing</c>, <c>warning</c> or <c>critical</c>.</param>
/// <param name="Output">The new output (Consul keeps the first 4096 bytes).</param>
internal sealed record ConsulCheckUpdate(string Status, string? Output);
