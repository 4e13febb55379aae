using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace HealthProxy.Reporting.Checks;

/// <summary>
/// Proves the cache keeps what it is given: writes a unique key with a short expiry, reads it back, compares,
/// deletes it. A ping is not enough: a read-only replica, or a flush or eviction between write and read, fails here.
/// </summary>
internal sealed class RedisDeepCheck : IHealthCheck
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisDeepCheckOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IRedisProbeFault? _fault;

    public RedisDeepCheck(IConnectionMultiplexer redis, RedisDeepCheckOptions options, TimeProvider time, ILogger logger, IRedisProbeFault? fault)
    {
        _redis = redis;
        _options = options;
        _time = time;
        _logger = logger;
        _fault = fault;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        TimedProbe.RunAsync(context, _options.Timeout, _time, _logger, ProbeAsync, cancellationToken);

    // StackExchange.Redis takes no cancellation token; TimedProbe stops waiting at the timeout, and the
    // checks between steps keep an abandoned probe from issuing further commands.
    private async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var database = _redis.GetDatabase(_options.Database);
        var key = new RedisKey(_options.KeyPrefix + Guid.NewGuid().ToString("N"));
        var value = new RedisValue(Guid.NewGuid().ToString("N"));
        if (!await database.StringSetAsync(key, value, _options.KeyExpiry).ConfigureAwait(false))
        {
            return "The write was not acknowledged.";
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (_fault is not null)
        {
            await _fault.AfterWriteAsync(database, key).ConfigureAwait(false);
        }

        var read = await database.StringGetAsync(key).ConfigureAwait(false);
        if (read != value)
        {
            return read.IsNull ? "The value written was gone when read back." : "The value read back differs from the one written.";
        }

        cancellationToken.ThrowIfCancellationRequested();
        await database.KeyDeleteAsync(key).ConfigureAwait(false);
        return null;
    }
}
