using HealthProxy.Gateway.Discovery;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Tests.Discovery;

public sealed class ConsulMetadataTests
{
    [Fact]
    public void Tiers_FailoverDatacenters_LocalFirstThenEachInOrderWithTheSameSelection()
    {
        var cluster = Cluster(new() { ["consul.service"] = "orders", ["consul.tag"] = "primary", ["consul.failover.datacenters"] = " dc2 , dc3,," });
        var problems = new List<string>();

        var tiers = ConsulMetadata.Tiers(cluster, ConsulMetadata.Read(cluster)!, problems);

        Assert.Empty(problems);
        Assert.Equal([null, "dc2", "dc3"], tiers.Select(t => t.Datacenter));
        Assert.All(tiers, t => Assert.Equal(("orders", "primary"), (t.Service, t.Tags)));
    }

    [Fact]
    public void Tiers_NoFailoverDatacenters_OnlyTheLocalSelection()
    {
        var cluster = Cluster(new() { ["consul.service"] = "orders", ["consul.datacenter"] = "dc1" });

        var tiers = ConsulMetadata.Tiers(cluster, ConsulMetadata.Read(cluster)!, []);

        Assert.Equal(["dc1"], tiers.Select(t => t.Datacenter));
    }

    [Theory]
    [InlineData("dc2,dc2")]
    [InlineData("dc1,dc2")]
    public void Tiers_RepeatedOrOwnDatacenter_IsAProblemNamingTheKey(string list)
    {
        var cluster = Cluster(new() { ["consul.service"] = "orders", ["consul.datacenter"] = "dc1", ["consul.failover.datacenters"] = list });
        var problems = new List<string>();

        var tiers = ConsulMetadata.Tiers(cluster, ConsulMetadata.Read(cluster)!, problems);

        Assert.Contains("ReverseProxy:Clusters:orders:Metadata:consul.failover.datacenters", Assert.Single(problems), StringComparison.Ordinal);
        Assert.Single(tiers);
    }

    private static ClusterConfig Cluster(Dictionary<string, string> metadata) => new() { ClusterId = "orders", Metadata = metadata };
}
