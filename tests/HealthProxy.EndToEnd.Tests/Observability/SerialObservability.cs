namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// Tests that read a gateway's whole /metrics run alone: OpenTelemetry listens to meters by name, so a
/// gateway started by a parallel test would show up in this one's scrape.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialObservability
{
    public const string Name = "Observability";
}
