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
