namespace HealthProxy.Health;

/// <summary>The health of a group of instances or services: a service, a category, the whole system.</summary>
/// <remarks>The rules that produce each value are in <see cref="HealthAggregation"/>, and nowhere else.</remarks>
public enum AggregateHealth
{
    /// <summary>Nothing to judge: the group is empty.</summary>
    Unknown = 0,

    /// <summary>Every member is healthy.</summary>
    Healthy = 1,

    /// <summary>Not every member is healthy, but the group still serves.</summary>
    Degraded = 2,

    /// <summary>The group cannot serve.</summary>
    Unhealthy = 3,
}
