using HealthProxy.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Reporting.Tests;

public sealed class StatusDocumentBuilderTests
{
    private static readonly string[] Critical = [ServiceHealthTags.Dependency, ServiceHealthTags.Critical];
    private static readonly string[] NonCritical = [ServiceHealthTags.Dependency];

    [Fact]
    public void FromReport_EverythingHealthy_Healthy()
    {
        var document = Build(("self", HealthStatus.Healthy, []), ("postgres", HealthStatus.Healthy, Critical), ("redis", HealthStatus.Healthy, NonCritical));

        Assert.Equal(HealthState.Healthy, document.Status);
        Assert.Equal(HealthState.Healthy, document.Own);
        Assert.Equal(new DependencyStatus(HealthState.Healthy, true), document.Dependencies["postgres"]);
        Assert.Equal(new DependencyStatus(HealthState.Healthy, false), document.Dependencies["redis"]);
        Assert.False(document.Dependencies.ContainsKey("self"));
    }

    [Fact]
    public void FromReport_CacheDownDatabaseUp_Degraded()
    {
        var document = Build(("postgres", HealthStatus.Healthy, Critical), ("redis", HealthStatus.Unhealthy, NonCritical));

        Assert.Equal(HealthState.Degraded, document.Status);
        Assert.Equal(HealthState.Unhealthy, document.Dependencies["redis"].Status);
    }

    [Fact]
    public void FromReport_DatabaseDown_Unhealthy()
    {
        var document = Build(("postgres", HealthStatus.Unhealthy, Critical), ("redis", HealthStatus.Healthy, NonCritical));

        Assert.Equal(HealthState.Unhealthy, document.Status);
        Assert.Equal(HealthState.Healthy, document.Own);
    }

    [Fact]
    public void FromReport_CriticalDependencyDegraded_Degraded()
    {
        var document = Build(("postgres", HealthStatus.Degraded, Critical));

        Assert.Equal(HealthState.Degraded, document.Status);
    }

    [Fact]
    public void FromReport_OwnCheckUnhealthy_Unhealthy()
    {
        var document = Build(("self", HealthStatus.Unhealthy, []), ("redis", HealthStatus.Healthy, NonCritical));

        Assert.Equal(HealthState.Unhealthy, document.Status);
        Assert.Equal(HealthState.Unhealthy, document.Own);
    }

    [Fact]
    public void FromReport_WrittenAndParsed_RoundTrips()
    {
        var document = Build(("postgres", HealthStatus.Healthy, Critical), ("redis", HealthStatus.Unhealthy, NonCritical));

        var json = StatusDocumentJson.Write(document);

        Assert.Equal(
            """{"status":"degraded","service":"orders","own":"healthy","dependencies":{"postgres":{"status":"healthy","critical":true},"redis":{"status":"unhealthy","critical":false}}}""",
            json);
        Assert.True(StatusDocumentJson.TryParse(json, out var parsed));
        Assert.Equal(HealthState.Degraded, parsed!.Status);
    }

    private static StatusDocument Build(params (string Name, HealthStatus Status, string[] Tags)[] entries)
    {
        var report = new HealthReport(
            entries.ToDictionary(e => e.Name, e => new HealthReportEntry(e.Status, null, TimeSpan.Zero, null, null, e.Tags)),
            TimeSpan.Zero);
        return StatusDocumentBuilder.FromReport(report, "orders");
    }
}
