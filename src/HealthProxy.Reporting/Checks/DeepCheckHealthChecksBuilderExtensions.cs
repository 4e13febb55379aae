using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace HealthProxy.Reporting.Checks;

/// <summary>
/// Registers the deep dependency checks on <see cref="IHealthChecksBuilder"/>, beside any other check.
/// </summary>
/// <remarks>
/// Each registration is tagged <see cref="ServiceHealthTags.Dependency"/> (plus <see cref="ServiceHealthTags.Critical"/>
/// when critical) and gets named options (the check's name) validated at startup. Each check enforces its own
/// timeout; the registration's own <c>Timeout</c> is left infinite so the two never race.
/// </remarks>
public static class DeepCheckHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a PostgreSQL deep check: a connection from the app's <see cref="NpgsqlDataSource"/>, <c>SELECT 1</c>,
    /// <c>SELECT txid_current()</c>. Critical by default: the database down makes the service unhealthy.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's (and dependency's) name. Default: <c>postgres</c>.</param>
    /// <param name="critical">Whether the service is unhealthy (true) or degraded (false) when it fails. Default: true.</param>
    /// <param name="dataSource">Where the data source comes from. Default: the <see cref="NpgsqlDataSource"/> registered in DI.</param>
    /// <param name="configure">Adjusts the options (timeout 2 s by default).</param>
    /// <param name="tags">Extra tags.</param>
    public static IHealthChecksBuilder AddPostgresDeepCheck(
        this IHealthChecksBuilder builder,
        string name = "postgres",
        bool critical = true,
        Func<IServiceProvider, NpgsqlDataSource>? dataSource = null,
        Action<PostgresDeepCheckOptions>? configure = null,
        IEnumerable<string>? tags = null)
    {
        AddOptions<PostgresDeepCheckOptions, PostgresDeepCheckOptionsValidator>(builder, name, configure);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new PostgresDeepCheck(
                dataSource?.Invoke(sp) ?? sp.GetRequiredService<NpgsqlDataSource>(),
                sp.GetRequiredService<IOptionsMonitor<PostgresDeepCheckOptions>>().Get(name),
                Time(sp),
                sp.GetRequiredService<ILogger<PostgresDeepCheck>>()),
            failureStatus: null,
            Tags(critical, tags)));
    }

    /// <summary>
    /// Adds a Redis deep check: write a unique key with a short expiry, read it back and compare, delete it.
    /// Not critical by default: the cache down (database up) makes the service degraded.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's (and dependency's) name. Default: <c>redis</c>.</param>
    /// <param name="critical">Whether the service is unhealthy (true) or degraded (false) when it fails. Default: false.</param>
    /// <param name="connection">Where the connection comes from. Default: the <see cref="IConnectionMultiplexer"/> registered in DI.</param>
    /// <param name="configure">Adjusts the options (timeout 1 s by default).</param>
    /// <param name="tags">Extra tags.</param>
    public static IHealthChecksBuilder AddRedisDeepCheck(
        this IHealthChecksBuilder builder,
        string name = "redis",
        bool critical = false,
        Func<IServiceProvider, IConnectionMultiplexer>? connection = null,
        Action<RedisDeepCheckOptions>? configure = null,
        IEnumerable<string>? tags = null)
    {
        AddOptions<RedisDeepCheckOptions, RedisDeepCheckOptionsValidator>(builder, name, configure);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RedisDeepCheck(
                connection?.Invoke(sp) ?? sp.GetRequiredService<IConnectionMultiplexer>(),
                sp.GetRequiredService<IOptionsMonitor<RedisDeepCheckOptions>>().Get(name),
                Time(sp),
                sp.GetRequiredService<ILogger<RedisDeepCheck>>(),
                sp.GetService<IRedisProbeFault>()),
            failureStatus: null,
            Tags(critical, tags)));
    }

    /// <summary>
    /// Adds a downstream-service check: GET <paramref name="uri"/> through <see cref="IHttpClientFactory"/>
    /// (client name <c>HealthProxy.Reporting.Downstream</c>); 200 is healthy.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's (and dependency's) name.</param>
    /// <param name="uri">The downstream's health endpoint, absolute http or https.</param>
    /// <param name="critical">Whether the service is unhealthy (true) or degraded (false) when it fails.</param>
    /// <param name="configure">Adjusts the options (timeout 3 s by default).</param>
    /// <param name="tags">Extra tags.</param>
    public static IHealthChecksBuilder AddDownstreamCheck(
        this IHealthChecksBuilder builder,
        string name,
        Uri uri,
        bool critical,
        Action<DownstreamCheckOptions>? configure = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        builder.Services.AddHttpClient(DownstreamCheck.HttpClientName);
        AddOptions<DownstreamCheckOptions, DownstreamCheckOptionsValidator>(builder, name, options =>
        {
            options.Uri = uri;
            configure?.Invoke(options);
        });
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new DownstreamCheck(
                sp.GetRequiredService<IHttpClientFactory>(),
                sp.GetRequiredService<IOptionsMonitor<DownstreamCheckOptions>>().Get(name),
                Time(sp),
                sp.GetRequiredService<ILogger<DownstreamCheck>>()),
            failureStatus: null,
            Tags(critical, tags)));
    }

    private static void AddOptions<TOptions, TValidator>(IHealthChecksBuilder builder, string name, Action<TOptions>? configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = builder.Services.AddOptions<TOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
    }

    private static TimeProvider Time(IServiceProvider services) => services.GetService<TimeProvider>() ?? TimeProvider.System;

    private static string[] Tags(bool critical, IEnumerable<string>? extra)
    {
        IEnumerable<string> tags = critical ? [ServiceHealthTags.Dependency, ServiceHealthTags.Critical] : [ServiceHealthTags.Dependency];
        return [.. tags.Concat(extra ?? []).Distinct(StringComparer.Ordinal)];
    }
}
