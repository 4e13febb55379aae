using StackExchange.Redis;

namespace HealthProxy.Reporting.Checks;

/// <summary>
/// A seam for tests: runs between the write and the read of the Redis probe, e.g. to flush the database there.
/// Resolved from DI when registered; production code registers none.
/// </summary>
internal interface IRedisProbeFault
{
    Task AfterWriteAsync(IDatabase database, RedisKey key);
}
