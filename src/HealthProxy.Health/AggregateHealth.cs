namespace HealthProxy.Health;

/// <summary>The health of a group of instances or services: a service, a category, the whole system.</summary>
public enum AggregateHealth
{
    /// <summary>Nothing to judge: the group is empty.</summary>
    Unknown = 0,

    /// <summary>Every member is healthy.</summary>
    Healthy = 1,

    /// <summary>More than half of the members are healthy, but not all.</summary>
    Degraded = 2,

    /// <summary>Half or fewer of the members are healthy.</summary>
    Unhealthy = 3,
}
