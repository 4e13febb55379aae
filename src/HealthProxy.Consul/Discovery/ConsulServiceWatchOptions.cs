using System.ComponentModel.DataAnnotations;

namespace HealthProxy.Consul.Discovery;

/// <summary>How a <see cref="ConsulServiceWatch"/> follows one service.</summary>
public sealed record ConsulServiceWatchOptions
{
    /// <summary>The service to watch (required).</summary>
    [Required]
    public required string ServiceName { get; init; }

    /// <summary>How long Consul may hold each blocking query; default 5 minutes (Consul caps it at 10).</summary>
    public TimeSpan Wait { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Tags every instance must carry; empty (default) = all instances.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>A bexpr filter; <see langword="null"/> by default.</summary>
    public string? Filter { get; init; }

    /// <summary>The datacenter; <see langword="null"/> (default) = the client's.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The consistency mode; <see langword="null"/> (default) = the client's.</summary>
    public ConsulConsistency? Consistency { get; init; }

    /// <summary>The first retry delay after a failure; doubles per failure, with jitter. Default 1 second.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay; default 30 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many queries may go out back to back (the token bucket's size); default 2.</summary>
    public int RateLimitBurst { get; init; } = 2;

    /// <summary>How often the token bucket gains a query once the burst is spent; default 100 ms (10 queries a second).</summary>
    public TimeSpan RateLimitInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            throw new ArgumentException("ServiceName is required.", nameof(ServiceName));
        }

        if (Wait <= TimeSpan.Zero || Wait > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("Wait must be positive and at most 10 minutes (Consul's cap).", nameof(Wait));
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            throw new ArgumentException("RetryBaseDelay must be positive and RetryMaxDelay at least RetryBaseDelay.", nameof(RetryBaseDelay));
        }

        if (RateLimitBurst < 1 || RateLimitInterval < TimeSpan.Zero)
        {
            throw new ArgumentException("RateLimitBurst must be at least 1 and RateLimitInterval not negative.", nameof(RateLimitBurst));
        }
    }
}
