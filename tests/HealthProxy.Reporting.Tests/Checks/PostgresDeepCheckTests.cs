using System.Diagnostics;
using HealthProxy.Reporting.Checks;
using HealthProxy.Reporting.Tests.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace HealthProxy.Reporting.Tests.Checks;

[Collection(ExternalServers.Name)]
public sealed class PostgresDeepCheckTests(ExternalServersFixture servers)
{
    [Fact]
    public async Task CheckHealth_ServerUp_Healthy()
    {
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var services = ServiceChecks.Build((checks, _) => checks.AddPostgresDeepCheck(dataSource: _ => dataSource));

        var result = await ServiceChecks.RunAsync(services, "postgres");

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task CheckHealth_DataSourceFromContainer_Healthy()
    {
        await using var services = ServiceChecks.Build((checks, s) =>
        {
            s.AddSingleton(_ => NpgsqlDataSource.Create(servers.Postgres.ConnectionString));
            checks.AddPostgresDeepCheck();
        });

        var result = await ServiceChecks.RunAsync(services, "postgres");

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task CheckHealth_ServerFrozenLongerThanTimeout_FailsWithinTheTimeout()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var services = ServiceChecks.Build((checks, _) =>
            checks.AddPostgresDeepCheck(dataSource: _ => dataSource, configure: o => o.Timeout = timeout));

        await servers.Postgres.FreezeAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            var result = await ServiceChecks.RunAsync(services, "postgres");
            clock.Stop();

            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Equal("Timed out after 300 ms.", result.Description);
            // Npgsql's own connect timeout is 5 s here: the check's timeout must be what ends it.
            Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(50), timeout + TimeSpan.FromSeconds(1.5));
        }
        finally
        {
            await servers.Postgres.ThawAsync();
        }
    }

    [Fact]
    public async Task CheckHealth_ServerStopped_FailsWithoutExceptionText()
    {
        await using var dataSource = servers.Postgres.CreateDataSource();
        await using var services = ServiceChecks.Build((checks, _) => checks.AddPostgresDeepCheck(dataSource: _ => dataSource));
        Assert.Equal(HealthStatus.Healthy, (await ServiceChecks.RunAsync(services, "postgres")).Status);

        await servers.Postgres.StopAsync();
        try
        {
            var result = await ServiceChecks.RunAsync(services, "postgres");

            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Null(result.Exception);
            Assert.Equal("The check failed; the service's log has the details.", result.Description);
        }
        finally
        {
            await servers.Postgres.StartAgainAsync();
        }
    }
}
