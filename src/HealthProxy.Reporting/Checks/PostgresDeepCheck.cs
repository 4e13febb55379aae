using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace HealthProxy.Reporting.Checks;

/// <summary>
/// Proves the database can do work: a pooled connection, <c>SELECT 1</c> returning 1, then
/// <c>SELECT txid_current()</c>, which needs a writable primary (it fails on a hot standby).
/// </summary>
internal sealed class PostgresDeepCheck : IHealthCheck
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresDeepCheckOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public PostgresDeepCheck(NpgsqlDataSource dataSource, PostgresDeepCheckOptions options, TimeProvider time, ILogger logger)
    {
        _dataSource = dataSource;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        TimedProbe.RunAsync(context, _options.Timeout, _time, _logger, ProbeAsync, cancellationToken);

    private async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT 1";
                var one = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (one is not 1)
                {
                    return "SELECT 1 did not return 1.";
                }

                command.CommandText = "SELECT txid_current()";
                var transactionId = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return transactionId is long ? null : "SELECT txid_current() returned no transaction id.";
            }
        }
    }
}
