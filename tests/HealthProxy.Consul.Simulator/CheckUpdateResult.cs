namespace HealthProxy.Consul.Simulator;

/// <summary>What happened to a check update.</summary>
internal enum CheckUpdateResult
{
    Updated,
    UnknownCheck,
    NotTtl,
}
