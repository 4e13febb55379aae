namespace HealthProxy.Reporting.Tests.Servers;

/// <summary>
/// One real PostgreSQL and one real Redis shared by the tests of <see cref="ExternalServers"/>, which
/// run one at a time. A test that stops one of them starts it again before it ends.
/// </summary>
public sealed class ExternalServersFixture : IAsyncLifetime
{
    internal PostgresServer Postgres { get; private set; } = null!;

    internal RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Postgres = await PostgresServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }
}
