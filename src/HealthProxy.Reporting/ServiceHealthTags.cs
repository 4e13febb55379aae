namespace HealthProxy.Reporting;

/// <summary>
/// The health-check tags that make a registration a dependency of the service, and a critical one.
/// </summary>
/// <remarks>
/// A registration without <see cref="Dependency"/> counts towards the service's <em>own</em> health, so
/// existing <c>AddCheck</c> registrations keep their meaning. Any registration can be declared a dependency by
/// tagging it, e.g. <c>.AddCheck&lt;QueueCheck&gt;("queue", tags: [ServiceHealthTags.Dependency, ServiceHealthTags.Critical])</c>.
/// </remarks>
public static class ServiceHealthTags
{
    /// <summary><c>dependency</c>: the check probes something the service depends on.</summary>
    public const string Dependency = "dependency";

    /// <summary>
    /// <c>critical</c>: the service cannot work without the dependency, so its failure makes the service
    /// unhealthy. A dependency without this tag only degrades the service when it fails.
    /// </summary>
    public const string Critical = "critical";
}
