using Npgsql;

/// <summary>The sample's initialisation: opens one database connection so the pool is warm before traffic.</summary>
internal static class WarmUp
{
    public static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<NpgsqlDataSource>() is not { } dataSource)
        {
            return;
        }

        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (NpgsqlException)
        {
            // Not fatal: readiness reports the database as unhealthy until it is back.
        }
    }
}
