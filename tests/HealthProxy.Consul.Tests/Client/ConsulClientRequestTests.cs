using System.Net;
using System.Text.Json;

namespace HealthProxy.Consul.Tests.Client;

/// <summary>What goes on the wire and how answers' headers and bodies are read (stubbed transport, doc-sample bodies).</summary>
public sealed class ConsulClientRequestTests
{
    private static readonly Dictionary<string, string> BlockingHeaders = new()
    {
        ["X-Consul-Index"] = "42",
        ["X-Consul-KnownLeader"] = "true",
        ["X-Consul-LastContact"] = "15",
    };

    [Fact]
    public async Task GetHealthService_BlockingQuery_SendsIndexWaitTagsFilterDcStaleAndNeverPassing()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "[]", headers: BlockingHeaders);
        var client = TestClients.For(new ConsulClientOptions { Token = "tok", Datacenter = "dc9", Consistency = ConsulConsistency.Stale }, handler);

        await client.GetHealthServiceAsync("my web", new HealthServiceQuery
        {
            Index = 7,
            Wait = TimeSpan.FromSeconds(90),
            Tags = ["a", "b c"],
            Filter = "Service.Meta.version == \"2\"",
        });

        var uri = Assert.Single(handler.Requests).RequestUri!;
        Assert.Equal("/v1/health/service/my%20web", uri.AbsolutePath);
        var query = uri.Query;
        Assert.Contains("index=7", query, StringComparison.Ordinal);
        Assert.Contains("wait=90s", query, StringComparison.Ordinal);
        Assert.Contains("tag=a&tag=b%20c", query, StringComparison.Ordinal);
        Assert.Contains("filter=Service.Meta.version%20%3D%3D%20%222%22", query, StringComparison.Ordinal);
        Assert.Contains("dc=dc9", query, StringComparison.Ordinal);
        Assert.Contains("&stale", query, StringComparison.Ordinal);
        Assert.DoesNotContain("passing", query, StringComparison.Ordinal);
        Assert.DoesNotContain("token", query, StringComparison.Ordinal);
        Assert.Equal("tok", Assert.Single(handler.Requests[0].Headers.GetValues("X-Consul-Token")));
    }

    [Fact]
    public async Task GetHealthService_IndexZero_SendsNeitherIndexNorWait()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "[]");

        await TestClients.For(new ConsulClientOptions(), handler).GetHealthServiceAsync("web", new HealthServiceQuery { Wait = TimeSpan.FromMinutes(1) });

        Assert.Equal("", handler.Requests[0].RequestUri!.Query);
        Assert.False(handler.Requests[0].Headers.Contains("X-Consul-Token"));
    }

    [Fact]
    public async Task GetHealthService_Headers_BecomeIndexKnownLeaderAndLastContact()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "[]", headers: BlockingHeaders);

        var answer = await TestClients.For(new ConsulClientOptions(), handler).GetHealthServiceAsync("web");

        Assert.Equal(42UL, answer.Index);
        Assert.True(answer.KnownLeader);
        Assert.Equal(TimeSpan.FromMilliseconds(15), answer.LastContact);
    }

    [Fact]
    public async Task GetHealthService_DocSample_ParsesNodeServiceAndBothKindsOfChecks()
    {
        var handler = new StubHandler(HttpStatusCode.OK, Fixture.Read("health-service.json"), headers: BlockingHeaders);

        var answer = await TestClients.For(new ConsulClientOptions(), handler).GetHealthServiceAsync("redis");

        var entry = Assert.Single(answer.Value);
        Assert.Equal("foobar", entry.Node!.Node);
        Assert.Equal("10.1.10.12", entry.Node.Address);
        Assert.Equal("dc1", entry.Node.Datacenter);
        Assert.Equal("t2.medium", entry.Node.Meta!["instance_type"]);
        Assert.Equal("redis", entry.Service!.ID);
        Assert.Equal(["primary"], entry.Service.Tags!);
        Assert.Equal(8000, entry.Service.Port);
        Assert.Equal("4.0", entry.Service.Meta!["redis_version"]);
        Assert.Equal(10, entry.Service.Weights!.Passing);
        // The doc sample writes lower-case keys inside TaggedAddresses; reads are case-insensitive.
        Assert.Equal("198.18.1.2", entry.Service.TaggedAddresses!["wan"].Address);
        Assert.Equal(80, entry.Service.TaggedAddresses["wan"].Port);
        Assert.Equal(2, entry.Checks!.Count);
        Assert.Equal("service:redis", entry.Checks[0].CheckID);
        Assert.Equal("passing", entry.Checks[0].Status);
        Assert.Equal("", entry.Checks[1].ServiceID);
        Assert.Equal("serfHealth", entry.Checks[1].CheckID);
    }

    [Fact]
    public async Task GetCatalogServices_DocSample_ParsesNamesAndTags()
    {
        var handler = new StubHandler(HttpStatusCode.OK, Fixture.Read("catalog-services.json"), headers: BlockingHeaders);

        var answer = await TestClients.For(new ConsulClientOptions(), handler).GetCatalogServicesAsync();

        Assert.Equal(3, answer.Value.Count);
        Assert.Empty(answer.Value["redis"]);
        Assert.Equal(["primary", "secondary"], answer.Value["postgresql"]);
        Assert.Equal(42UL, answer.Index);
    }

    [Fact]
    public async Task RegisterService_Body_UsesTheDocSamplesFieldNamesAndGoDurations()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "");
        var client = TestClients.For(new ConsulClientOptions(), handler);

        await client.RegisterServiceAsync(new Api.ConsulServiceRegistration
        {
            ID = "redis1",
            Name = "redis",
            Tags = ["primary", "v1"],
            Address = "127.0.0.1",
            Port = 8000,
            Meta = new Dictionary<string, string> { ["redis_version"] = "4.0" },
            Weights = new Api.ConsulWeights { Passing = 10, Warning = 1 },
            Check = new Api.ConsulCheckRegistration
            {
                CheckID = "redis1-ttl",
                TTL = TimeSpan.FromSeconds(15),
                DeregisterCriticalServiceAfter = TimeSpan.FromMinutes(90),
                Status = "critical",
            },
        });

        Assert.Equal(HttpMethod.Put, handler.Requests[0].Method);
        Assert.Equal("/v1/agent/service/register", handler.Requests[0].RequestUri!.AbsolutePath);
        using var sent = JsonDocument.Parse(handler.Bodies[0]!);
        using var sample = JsonDocument.Parse(Fixture.Read("agent-service-register.json"));
        foreach (var property in sent.RootElement.EnumerateObject())
        {
            Assert.True(sample.RootElement.TryGetProperty(property.Name, out var expected), $"the doc sample has no field {property.Name}");
            Assert.Equal(expected.ValueKind, property.Value.ValueKind);
        }

        var check = sent.RootElement.GetProperty("Check");
        Assert.Equal("15s", check.GetProperty("TTL").GetString());
        Assert.Equal("5400s", check.GetProperty("DeregisterCriticalServiceAfter").GetString());
        Assert.Equal("redis1-ttl", check.GetProperty("CheckID").GetString());
    }

    [Fact]
    public async Task UpdateTtlCheck_Body_MatchesTheDocSampleShape()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "");

        await TestClients.For(new ConsulClientOptions(), handler).UpdateTtlCheckAsync("web-ttl", ConsulCheckStatus.Warning, "{\"status\":\"degraded\"}");

        Assert.Equal("/v1/agent/check/update/web-ttl", handler.Requests[0].RequestUri!.AbsolutePath);
        using var sent = JsonDocument.Parse(handler.Bodies[0]!);
        using var sample = JsonDocument.Parse(Fixture.Read("agent-check-update.json"));
        Assert.Equal(sample.RootElement.EnumerateObject().Select(p => p.Name), sent.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("warning", sent.RootElement.GetProperty("Status").GetString());
    }

    [Fact]
    public async Task EnableServiceMaintenance_SendsEnableAndTheEncodedReason()
    {
        var handler = new StubHandler(HttpStatusCode.OK, "");

        await TestClients.For(new ConsulClientOptions(), handler).EnableServiceMaintenanceAsync("web-1", "deploy & drain");

        Assert.Equal("/v1/agent/service/maintenance/web-1?enable=true&reason=deploy%20%26%20drain", handler.Requests[0].RequestUri!.PathAndQuery);
    }

    [Theory]
    [InlineData(0UL, null, 30)]
    [InlineData(5UL, null, 5 * 60 + 300 / 16.0 + 15)]
    [InlineData(5UL, 60, 60 + 60 / 16.0 + 15)]
    [InlineData(5UL, 3600, 600 + 600 / 16.0 + 15)]
    public void ReadTimeout_BlockingQuery_ExceedsWaitPlusJitterPlusMargin(ulong index, int? waitSeconds, double expectedSeconds)
    {
        var client = TestClients.For(new ConsulClientOptions());

        var timeout = client.ReadTimeout(index, waitSeconds is { } s ? TimeSpan.FromSeconds(s) : null);

        Assert.Equal(expectedSeconds, timeout.TotalSeconds, 3);
    }
}
