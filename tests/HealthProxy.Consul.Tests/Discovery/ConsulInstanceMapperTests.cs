using System.Text.Json;
using HealthProxy.Consul.Api;
using HealthProxy.Consul.Discovery;
using HealthProxy.Health;

namespace HealthProxy.Consul.Tests.Discovery;

public sealed class ConsulInstanceMapperTests
{
    private static ConsulHealthCheck Check(string id, string status, string serviceId = "web-1", string output = "") =>
        new() { CheckID = id, Status = status, ServiceID = serviceId, Output = output, Node = "n1" };

    private static ConsulServiceEntry Entry(params ConsulHealthCheck[] checks) => new()
    {
        Node = new ConsulNode { Node = "n1", Address = "10.0.0.1" },
        Service = new ConsulAgentService
        {
            ID = "web-1",
            Service = "web",
            Address = "10.0.0.2",
            Port = 8080,
            Tags = ["a"],
            Meta = new Dictionary<string, string> { ["category"] = "frontend" },
        },
        Checks = checks,
    };

    private static ConsulServiceInstance Map(ConsulServiceEntry entry)
    {
        Assert.True(ConsulInstanceMapper.TryMap(entry, out var instance, out var problem), problem);
        return instance;
    }

    [Fact]
    public void TryMap_AllPassing_IsHealthy()
    {
        var instance = Map(Entry(Check("service:web-1", "passing"), Check("serfHealth", "passing", serviceId: "")));

        Assert.Equal(HealthState.Healthy, instance.State);
        Assert.Equal(HealthState.Healthy, instance.CheckState);
    }

    [Fact]
    public void TryMap_Weights_AreCarriedAndConsulsDefaultIsOneAndOne()
    {
        var weighted = Entry(Check("service:web-1", "warning"));
        weighted = weighted with { Service = weighted.Service! with { Weights = new ConsulWeights { Passing = 5, Warning = 0 } } };

        var instance = Map(weighted);

        Assert.Equal((5, 0), (instance.WeightPassing, instance.WeightWarning));
        Assert.Equal(HealthState.Degraded, instance.State);
        Assert.Equal((1, 1), (Map(Entry()).WeightPassing, Map(Entry()).WeightWarning));
    }

    [Fact]
    public void TryMap_PassingWeightZero_IsUnhealthyAsInConsulsOwnProxies()
    {
        var entry = Entry(Check("service:web-1", "passing"));
        entry = entry with { Service = entry.Service! with { Weights = new ConsulWeights { Passing = 0, Warning = 0 } } };

        Assert.Equal(HealthState.Unhealthy, Map(entry).State);
    }

    [Fact]
    public void TryMap_NoChecks_IsHealthy()
    {
        Assert.Equal(HealthState.Healthy, Map(Entry()).State);
    }

    [Fact]
    public void TryMap_AWarning_IsDegraded()
    {
        Assert.Equal(HealthState.Degraded, Map(Entry(Check("service:web-1", "warning"), Check("serfHealth", "passing", serviceId: ""))).State);
    }

    [Fact]
    public void TryMap_ACriticalAmongWarnings_IsUnhealthy()
    {
        Assert.Equal(HealthState.Unhealthy, Map(Entry(Check("a", "warning"), Check("b", "critical"))).State);
    }

    [Fact]
    public void TryMap_CriticalNodeCheck_MakesTheInstanceUnhealthy()
    {
        Assert.Equal(HealthState.Unhealthy, Map(Entry(Check("service:web-1", "passing"), Check("serfHealth", "critical", serviceId: ""))).State);
    }

    [Fact]
    public void TryMap_UnknownStatusWord_CountsAsCritical()
    {
        Assert.Equal(HealthState.Unhealthy, Map(Entry(Check("a", "mystery"))).State);
    }

    [Fact]
    public void TryMap_ServiceMaintenanceCheck_IsDrainingWhateverElse()
    {
        var instance = Map(Entry(Check("service:web-1", "passing"), Check("_service_maintenance:web-1", "critical")));

        Assert.Equal(HealthState.Draining, instance.State);
    }

    [Fact]
    public void TryMap_MaintenanceIsDetectedByCheckIdNotStatus()
    {
        Assert.Equal(HealthState.Draining, Map(Entry(Check("_service_maintenance:web-1", "passing"))).State);
        Assert.Equal(HealthState.Unhealthy, Map(Entry(Check("maintenance-ish", "critical"))).State);
    }

    [Fact]
    public void TryMap_NodeMaintenanceCheck_IsDraining()
    {
        var instance = Map(Entry(Check("service:web-1", "passing"), Check("_node_maintenance", "critical", serviceId: "")));

        Assert.Equal(HealthState.Draining, instance.State);
    }

    [Theory]
    [InlineData("passing", "starting", HealthState.Starting)]
    [InlineData("passing", "draining", HealthState.Draining)]
    [InlineData("passing", "degraded", HealthState.Degraded)]
    [InlineData("passing", "healthy", HealthState.Healthy)]
    [InlineData("warning", "healthy", HealthState.Degraded)]
    [InlineData("critical", "degraded", HealthState.Unhealthy)]
    public void TryMap_TtlOutputStatusDocument_TheWorseOfCheckAndPublishedWins(string checkStatus, string published, HealthState expected)
    {
        var output = $$"""{"status":"{{published}}","service":"web"}""";

        var instance = Map(Entry(Check("web-ttl", checkStatus, output: output)));

        Assert.Equal(expected, instance.State);
        Assert.NotNull(instance.Published);
    }

    [Fact]
    public void TryMap_TtlOutputWithDependencies_ExposesThem()
    {
        var document = new StatusDocument
        {
            Status = HealthState.Degraded,
            Own = HealthState.Healthy,
            Dependencies = new Dictionary<string, DependencyStatus>
            {
                ["postgres"] = new(HealthState.Healthy, Critical: true),
                ["redis"] = new(HealthState.Unhealthy, Critical: false),
            },
        };

        var instance = Map(Entry(Check("web-ttl", "passing", output: StatusDocumentJson.Write(document))));

        Assert.Equal(HealthState.Degraded, instance.State);
        Assert.Equal(HealthState.Healthy, instance.CheckState);
        Assert.Equal(new DependencyStatus(HealthState.Unhealthy, false), instance.Dependencies["redis"]);
        Assert.True(instance.Dependencies["postgres"].Critical);
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP GET http://10.0.0.2/health: 200 OK")]
    [InlineData("{\"status\": 42}")]
    [InlineData("{\"status\":\"healthy\"")]
    [InlineData("TTL expired")]
    [InlineData("   ")]
    public void TryMap_OutputThatIsNoStatusDocument_IsIgnored(string output)
    {
        var instance = Map(Entry(Check("web-ttl", "passing", output: output)));

        Assert.Null(instance.Published);
        Assert.Empty(instance.Dependencies);
        Assert.Equal(HealthState.Healthy, instance.State);
    }

    [Fact]
    public void TryMap_StatusDocumentInANodeCheck_IsNotThisInstancesPublishedStatus()
    {
        var instance = Map(Entry(Check("serfHealth", "passing", serviceId: "", output: "{\"status\":\"draining\"}")));

        Assert.Null(instance.Published);
        Assert.Equal(HealthState.Healthy, instance.State);
    }

    [Fact]
    public void TryMap_Identity_IsNodeSlashServiceId()
    {
        var instance = Map(Entry());

        Assert.Equal("n1/web-1", instance.Id);
        Assert.Equal("n1", instance.Node);
        Assert.Equal("web-1", instance.ServiceId);
        Assert.Equal("web", instance.ServiceName);
    }

    [Fact]
    public void TryMap_ServiceAddress_IsUsedWhenPresent()
    {
        var instance = Map(Entry());

        Assert.Equal("10.0.0.2", instance.Address);
        Assert.Equal(8080, instance.Port);
    }

    [Fact]
    public void TryMap_EmptyServiceAddress_FallsBackToTheNodeAddress()
    {
        var entry = Entry();
        entry = entry with { Service = entry.Service! with { Address = "" } };

        Assert.Equal("10.0.0.1", Map(entry).Address);
    }

    [Fact]
    public void TryMap_CategoryMeta_BecomesTheCategory()
    {
        var instance = Map(Entry());

        Assert.Equal("frontend", instance.Category);
        Assert.Equal(["a"], instance.Tags);
    }

    [Fact]
    public void TryMap_NoCategoryMeta_HasNoCategory()
    {
        var entry = Entry();
        entry = entry with { Service = entry.Service! with { Meta = null, Tags = null } };

        var instance = Map(entry);

        Assert.Null(instance.Category);
        Assert.Empty(instance.Tags);
        Assert.Empty(instance.Meta);
    }

    [Fact]
    public void TryMap_MissingNodeName_IsAProblem()
    {
        var entry = Entry() with { Node = new ConsulNode { Address = "10.0.0.1" } };

        Assert.False(ConsulInstanceMapper.TryMap(entry, out _, out var problem));
        Assert.Contains("Node", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryMap_NullAmongChecks_IsAProblemNotACrash()
    {
        var entry = Entry() with { Checks = [Check("service:web-1", "passing"), null!] };

        Assert.False(ConsulInstanceMapper.TryMap(entry, out _, out var problem));
        Assert.Contains("Checks", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryMap_NullAmongTags_IsAProblem()
    {
        var entry = Entry();
        entry = entry with { Service = entry.Service! with { Tags = ["a", null!] } };

        Assert.False(ConsulInstanceMapper.TryMap(entry, out _, out var problem));
        Assert.Contains("Tags", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void TryMap_PortOutsideTcpRange_IsAProblem(int port)
    {
        var entry = Entry();
        entry = entry with { Service = entry.Service! with { Port = port } };

        Assert.False(ConsulInstanceMapper.TryMap(entry, out _, out var problem));
        Assert.Contains("Port", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MapAll_SameServiceIdOnTwoNodes_AreTwoInstancesOrderedById()
    {
        var a = Entry() with { Node = new ConsulNode { Node = "n2", Address = "10.0.0.9" } };
        var b = Entry();

        var instances = ConsulInstanceMapper.MapAll([a, b]);

        Assert.Equal(["n1/web-1", "n2/web-1"], instances.Select(i => i.Id));
    }

    [Fact]
    public void MapAll_DuplicateIdentity_IsMalformed()
    {
        var error = Assert.Throws<ConsulException>(() => ConsulInstanceMapper.MapAll([Entry(), Entry()]));

        Assert.Equal(ConsulErrorKind.MalformedResponse, error.Kind);
    }

    [Fact]
    public void MapAll_DocSample_MapsToAHealthyRedisOnFoobar()
    {
        var entries = JsonSerializer.Deserialize(Fixture.Read("health-service.json"), ConsulJsonContext.Default.ListConsulServiceEntry)!;

        var instance = Assert.Single(ConsulInstanceMapper.MapAll(entries));

        Assert.Equal("foobar/redis", instance.Id);
        Assert.Equal("10.1.10.12", instance.Address);
        Assert.Equal(8000, instance.Port);
        Assert.Equal(HealthState.Healthy, instance.State);
        Assert.Equal("4.0", instance.Meta["redis_version"]);
    }

    [Fact]
    public void Equals_SameContentsInDifferentCollections_AreEqual()
    {
        Assert.Equal(Map(Entry(Check("a", "warning"))), Map(Entry(Check("a", "warning"))));
        Assert.NotEqual(Map(Entry(Check("a", "warning"))), Map(Entry(Check("a", "passing"))));
    }
}
