namespace HealthProxy.Reporting.Tests.Servers;

/// <summary>The tests that use the real PostgreSQL and Redis of <see cref="ExternalServersFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ExternalServers : ICollectionFixture<ExternalServersFixture>
{
    public const string Name = "External servers";
}
