using System.Net;
using System.Text;
using System.Text.Json;
using HealthProxy.Consul.Simulator;
using HealthProxy.Testing;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Simulator;

/// <summary>The simulator is only useful if it behaves like Consul: these hold it to NOTES.md and the doc samples.</summary>
public sealed class ConsulSimulatorTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new();
    private ConsulSimulator _simulator = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _simulator = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { TimeProvider = _clock });
        _http = new HttpClient { BaseAddress = _simulator.Address, Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _simulator.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    private Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PutAsync(string path, string? body = null) => SendAsync(HttpMethod.Put, path, body);

    private static ulong Index(HttpResponseMessage response) => ulong.Parse(response.Headers.GetValues("X-Consul-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);

    private static void AssertHasFieldsOf(JsonElement sample, JsonElement actual, string path)
    {
        Assert.Equal(sample.ValueKind, actual.ValueKind);
        if (sample.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in sample.EnumerateObject())
        {
            if (property.Name == "Namespace")
            {
                continue; // Enterprise only.
            }

            var match = actual.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
            Assert.True(match.Value.ValueKind != JsonValueKind.Undefined, $"{path}.{property.Name} is missing from the simulator's answer");
            if (property.Value.ValueKind == JsonValueKind.Array && property.Value.GetArrayLength() > 0 && match.Value.GetArrayLength() > 0)
            {
                AssertHasFieldsOf(property.Value[0], match.Value[0], $"{path}.{property.Name}[0]");
            }
            else if (property.Name == "Meta")
            {
                // Meta holds user data, not schema: only its kind is compared.
                Assert.Equal(property.Value.ValueKind, match.Value.ValueKind);
            }
            else if (property.Value.ValueKind != JsonValueKind.Array)
            {
                AssertHasFieldsOf(property.Value, match.Value, $"{path}.{property.Name}");
            }
        }
    }

    private void RegisterRedisLikeTheDocSample() => _simulator.RegisterService(new SimulatedService
    {
        Node = "foobar",
        NodeAddress = "10.1.10.12",
        Name = "redis",
        ID = "redis",
        Tags = ["primary"],
        Address = "10.1.10.12",
        Port = 8000,
        Meta = new Dictionary<string, string> { ["redis_version"] = "4.0" },
        Checks = [new SimulatedCheck { Status = "passing" }],
    });

    [Fact]
    public async Task HealthService_Answer_HasEveryFieldOfTheDocSample()
    {
        RegisterRedisLikeTheDocSample();

        var (status, body, _) = await GetAsync("/v1/health/service/redis");

        Assert.Equal(HttpStatusCode.OK, status);
        using var sample = JsonDocument.Parse(Fixture.Read("health-service.json"));
        using var actual = JsonDocument.Parse(body);
        AssertHasFieldsOf(sample.RootElement[0], actual.RootElement[0], "$[0]");
        var checks = actual.RootElement[0].GetProperty("Checks");
        Assert.Equal("service:redis", checks[0].GetProperty("CheckID").GetString());
        Assert.Equal("Service 'redis' check", checks[0].GetProperty("Name").GetString());
        Assert.Equal("serfHealth", checks[1].GetProperty("CheckID").GetString());
        Assert.Equal("", checks[1].GetProperty("ServiceID").GetString());
        using var checkSample = JsonDocument.Parse(Fixture.Read("health-checks.json"));
        AssertHasFieldsOf(checkSample.RootElement[0], checks[0], "$[0].Checks[0]");
    }

    [Fact]
    public async Task HealthService_WithAddedDatacenter_AnswersFromThatCatalogWithItsOwnIndex()
    {
        var dc2 = _simulator.AddDatacenter("dc2");
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "local", Checks = [new SimulatedCheck { Status = "passing" }] });
        for (var i = 0; i < 5; i++)
        {
            _simulator.SetCheckStatus("service:local", i % 2 == 0 ? "warning" : "passing");
        }

        dc2.RegisterService(new SimulatedService { Name = "web", ID = "remote", Checks = [new SimulatedCheck { Status = "passing" }] });

        var (localStatus, localBody, localResponse) = await GetAsync("/v1/health/service/web");
        var (ownStatus, ownBody, _) = await GetAsync("/v1/health/service/web?dc=dc1");
        var (remoteStatus, remoteBody, remoteResponse) = await GetAsync("/v1/health/service/web?dc=dc2");

        Assert.Equal(HttpStatusCode.OK, localStatus);
        Assert.Equal(HttpStatusCode.OK, ownStatus);
        Assert.Equal(HttpStatusCode.OK, remoteStatus);
        Assert.Equal(localBody, ownBody);
        var remote = Assert.Single(JsonDocument.Parse(remoteBody).RootElement.EnumerateArray());
        Assert.Equal("remote", remote.GetProperty("Service").GetProperty("ID").GetString());
        Assert.Equal("dc2", remote.GetProperty("Node").GetProperty("Datacenter").GetString());
        Assert.Equal("local", JsonDocument.Parse(localBody).RootElement[0].GetProperty("Service").GetProperty("ID").GetString());
        Assert.Equal(dc2.Index, Index(remoteResponse));
        Assert.NotEqual(Index(localResponse), Index(remoteResponse));
    }

    [Fact]
    public async Task HealthService_UnknownDatacenter_Answers500NoPathToDatacenterAsPlainText()
    {
        _simulator.AddDatacenter("dc2");

        var (status, body, response) = await GetAsync("/v1/health/service/web?dc=dc9");
        var (catalogStatus, catalogBody, _) = await GetAsync("/v1/catalog/services?dc=dc9");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("No path to datacenter", body);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.InternalServerError, catalogStatus);
        Assert.Equal("No path to datacenter", catalogBody);
    }

    [Fact]
    public async Task Fault_OfAnAddedDatacenter_SpoilsOnlyItsOwnReads()
    {
        var dc2 = _simulator.AddDatacenter("dc2");
        dc2.Fault = SimulatorFault.MalformedJson;

        var (_, remoteBody, _) = await GetAsync("/v1/health/service/web?dc=dc2");
        var (localStatus, localBody, _) = await GetAsync("/v1/health/service/web");

        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(remoteBody));
        Assert.Equal(HttpStatusCode.OK, localStatus);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(localBody).RootElement.ValueKind);
    }

    [Fact]
    public async Task HealthService_BlockingOnAnAddedDatacenter_WakesOnItsChangeNotOnLocalOnes()
    {
        var dc2 = _simulator.AddDatacenter("dc2");
        dc2.RegisterService(new SimulatedService { Name = "web", ID = "remote", Checks = [new SimulatedCheck { Status = "passing" }] });
        var (_, _, first) = await GetAsync("/v1/health/service/web?dc=dc2");
        var index = Index(first);

        var blocked = GetAsync($"/v1/health/service/web?dc=dc2&index={index}&wait=1m");
        await Eventually.HoldsAsync(() => _simulator.BlockedQueriesFor("web") == 1, "the remote query is parked");
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "local", Checks = [new SimulatedCheck { Status = "passing" }] });
        Assert.False(blocked.IsCompleted);

        dc2.SetCheckStatus("service:remote", "critical");
        var (_, body, answer) = await blocked.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(Index(answer) > index);
        Assert.Equal("critical", JsonDocument.Parse(body).RootElement[0].GetProperty("Checks")[0].GetProperty("Status").GetString());
    }

    [Fact]
    public async Task HealthService_Answer_CarriesBlockingHeaders()
    {
        RegisterRedisLikeTheDocSample();

        var (_, _, response) = await GetAsync("/v1/health/service/redis");

        Assert.True(Index(response) > 0);
        Assert.Equal("true", response.Headers.GetValues("X-Consul-KnownLeader").Single());
        Assert.Equal("0", response.Headers.GetValues("X-Consul-LastContact").Single());
    }

    [Fact]
    public async Task CatalogServices_Answer_HasTheDocSamplesShape()
    {
        RegisterRedisLikeTheDocSample();

        var (_, body, _) = await GetAsync("/v1/catalog/services");

        using var actual = JsonDocument.Parse(body);
        Assert.Equal(JsonValueKind.Array, actual.RootElement.GetProperty("consul").ValueKind);
        Assert.Equal("primary", actual.RootElement.GetProperty("redis")[0].GetString());
    }

    [Fact]
    public async Task Register_ChecksWithoutIds_GetConsulsGeneratedIdsAndStartCritical()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"one","Check":{"TTL":"10s"}}""");
        await PutAsync("/v1/agent/service/register", """{"name":"two","id":"two-a","checks":[{"ttl":"10s"},{"TTL":"5s","Status":"passing"}]}""");

        var (_, one, _) = await GetAsync("/v1/health/service/one");
        var (_, two, _) = await GetAsync("/v1/health/service/two");

        Assert.Contains("\"CheckID\": \"service:one\"", one, StringComparison.Ordinal);
        Assert.Contains("\"Status\": \"critical\"", one, StringComparison.Ordinal);
        Assert.Contains("\"CheckID\": \"service:two-a:1\"", two, StringComparison.Ordinal);
        Assert.Contains("\"CheckID\": \"service:two-a:2\"", two, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_DocSamplePayload_IsAccepted()
    {
        var (status, _, _) = await PutAsync("/v1/agent/service/register", Fixture.Read("agent-service-register.json"));
        var (_, body, _) = await GetAsync("/v1/health/service/redis");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"ID\": \"redis1\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_Again_KeepsTheCurrentCheckStatus()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Check":{"CheckID":"web-ttl","TTL":"10s"}}""");
        await PutAsync("/v1/agent/check/pass/web-ttl");
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Port":81,"Check":{"CheckID":"web-ttl","TTL":"10s"}}""");

        var (_, body, _) = await GetAsync("/v1/health/service/web");

        Assert.Contains("\"Status\": \"passing\"", body, StringComparison.Ordinal);
        Assert.Contains("\"Port\": 81", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TtlCheck_NoUpdateWithinTtl_TurnsCriticalWithTtlExpired()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Check":{"CheckID":"web-ttl","TTL":"10s","Status":"passing"}}""");

        _clock.Advance(TimeSpan.FromSeconds(11));
        var (_, body, _) = await GetAsync("/v1/health/service/web");

        Assert.Contains("\"Output\": \"TTL expired\"", body, StringComparison.Ordinal);
        Assert.Contains("\"Status\": \"critical\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TtlCheck_UpdateRestartsTheTimer_AndExpiryQuotesTheLastOutput()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Check":{"CheckID":"web-ttl","TTL":"10s"}}""");
        _clock.Advance(TimeSpan.FromSeconds(8));
        await PutAsync("/v1/agent/check/update/web-ttl", """{"Status":"passing","Output":"all good"}""");
        _clock.Advance(TimeSpan.FromSeconds(8));
        var (_, alive, _) = await GetAsync("/v1/health/service/web");
        _clock.Advance(TimeSpan.FromSeconds(3));
        var (_, expired, _) = await GetAsync("/v1/health/service/web");

        Assert.Contains("\"Status\": \"passing\"", alive, StringComparison.Ordinal);
        Assert.Contains("TTL expired (last output before timeout follows): all good", expired, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeregisterCriticalServiceAfter_CriticalLongEnough_TheReaperRemovesTheService()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Check":{"CheckID":"web-ttl","TTL":"10s","DeregisterCriticalServiceAfter":"10s"}}""");
        await PutAsync("/v1/agent/service/register", """{"Name":"api","Check":{"CheckID":"api-ttl","TTL":"10m","Status":"passing","DeregisterCriticalServiceAfter":"1m"}}""");

        _clock.Advance(TimeSpan.FromSeconds(30));
        var (_, early, _) = await GetAsync("/v1/health/service/web");
        _clock.Advance(TimeSpan.FromSeconds(30));
        var (_, late, _) = await GetAsync("/v1/health/service/web");
        var (_, passing, _) = await GetAsync("/v1/health/service/api");

        Assert.NotEqual("[]", early); // 10s is raised to Consul's 1 minute minimum
        Assert.Equal("[]", late);
        Assert.NotEqual("[]", passing);
    }

    [Fact]
    public async Task TtlUpdate_OutputOver4096Bytes_IsTruncatedLikeConsul()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Check":{"CheckID":"web-ttl","TTL":"10s"}}""");
        var output = new string('x', 5000);

        await PutAsync("/v1/agent/check/update/web-ttl", JsonSerializer.Serialize(new { Status = "passing", Output = output }));
        var (_, body, _) = await GetAsync("/v1/health/service/web");

        using var json = JsonDocument.Parse(body);
        var stored = json.RootElement[0].GetProperty("Checks")[0].GetProperty("Output").GetString()!;
        Assert.Equal(new string('x', 4096) + " ... (captured 4096 of 5000 bytes)", stored);
    }

    [Theory]
    [InlineData("GET", "/v1/health/service/web?index=1&wait=10", HttpStatusCode.BadRequest, "Invalid wait time")]
    [InlineData("GET", "/v1/health/service/web?index=abc", HttpStatusCode.BadRequest, "Invalid index")]
    [InlineData("GET", "/v1/health/service/web?passing=maybe", HttpStatusCode.BadRequest, "Invalid value for ?passing")]
    [InlineData("GET", "/v1/health/service/web?stale&consistent", HttpStatusCode.BadRequest, "Cannot specify ?stale with ?consistent, conflicting semantics.")]
    [InlineData("GET", "/v1/health/service/web?ns=default", HttpStatusCode.BadRequest, "Namespaces are a Consul Enterprise feature")]
    [InlineData("PUT", "/v1/agent/service/deregister/nope", HttpStatusCode.NotFound, "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.")]
    [InlineData("PUT", "/v1/agent/check/pass/nope", HttpStatusCode.NotFound, "Unknown check ID \"nope\". Ensure that the check ID is passed, not the check name.")]
    [InlineData("PUT", "/v1/agent/service/maintenance/nope?enable=true", HttpStatusCode.NotFound, "Unknown service ID \"nope\"")]
    [InlineData("PUT", "/v1/agent/maintenance", HttpStatusCode.BadRequest, "Missing value for enable")]
    [InlineData("PUT", "/v1/agent/maintenance?enable=perhaps", HttpStatusCode.BadRequest, "Invalid value for enable")]
    [InlineData("GET", "/v1/health/service/web?filter=Checks.Status%20%3D%3D", HttpStatusCode.InternalServerError, "Failed to create boolean expression evaluator")]
    public async Task Errors_ArePlainTextWithConsulsStatusAndMessage(string method, string path, HttpStatusCode expectedStatus, string expectedMessage)
    {
        var (status, body, response) = await SendAsync(new HttpMethod(method), path);

        Assert.Equal(expectedStatus, status);
        Assert.Contains(expectedMessage, body, StringComparison.Ordinal);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckUpdate_InvalidStatusOrNonTtlCheck_AreRejectedLikeConsul()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web","Checks":[{"CheckID":"ttl","TTL":"10s"},{"CheckID":"http","HTTP":"http://127.0.0.1/","Interval":"10s"}]}""");

        var (badStatus, badBody, _) = await PutAsync("/v1/agent/check/update/ttl", """{"Status":"bogus"}""");
        var (notTtl, notTtlBody, _) = await PutAsync("/v1/agent/check/pass/http");
        var (decode, decodeBody, _) = await PutAsync("/v1/agent/service/register", "{not json");
        var (missing, missingBody, _) = await PutAsync("/v1/agent/service/register", "{}");

        Assert.Equal((HttpStatusCode.BadRequest, "Invalid check status: 'bogus'"), (badStatus, badBody));
        Assert.Equal((HttpStatusCode.InternalServerError, "CheckID \"http\" does not have associated TTL"), (notTtl, notTtlBody));
        Assert.Equal(HttpStatusCode.BadRequest, decode);
        Assert.StartsWith("Request decode failed", decodeBody, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "Missing service name"), (missing, missingBody));
    }

    [Fact]
    public async Task WrongMethod_Is405WithAllow()
    {
        var (status, _, response) = await GetAsync("/v1/agent/service/register");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("PUT", response.Content.Headers.Allow.Single());
    }

    [Theory]
    [InlineData("?passing", new[] { "a" })]
    [InlineData("?passing=true", new[] { "a" })]
    [InlineData("?passing=1", new[] { "a" })]
    [InlineData("?passing=false", new[] { "a", "b", "c" })]
    [InlineData("", new[] { "a", "b", "c" })]
    public async Task HealthService_Passing_DropsWarningAndCriticalInstances(string query, string[] expected)
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a", Checks = [new SimulatedCheck { Status = "passing" }] });
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "b", Checks = [new SimulatedCheck { Status = "warning" }] });
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "c", Checks = [new SimulatedCheck { Status = "critical" }] });

        var (_, body, _) = await GetAsync("/v1/health/service/web" + query);

        using var json = JsonDocument.Parse(body);
        Assert.Equal(expected, json.RootElement.EnumerateArray().Select(e => e.GetProperty("Service").GetProperty("ID").GetString()).Order());
    }

    [Fact]
    public async Task HealthService_Tags_AreAndedAndCaseInsensitive_AndFilterSubsetWorks()
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a", Tags = ["primary", "v1"], Meta = new Dictionary<string, string> { ["version"] = "2" } });
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "b", Tags = ["primary"] });

        var (_, tagged, _) = await GetAsync("/v1/health/service/web?tag=PRIMARY&tag=v1");
        var (_, filtered, _) = await GetAsync("/v1/health/service/web?filter=" + Uri.EscapeDataString("Service.Meta.version == \"2\""));

        Assert.Contains("\"ID\": \"a\"", tagged, StringComparison.Ordinal);
        Assert.DoesNotContain("\"ID\": \"b\"", tagged, StringComparison.Ordinal);
        Assert.Contains("\"ID\": \"a\"", filtered, StringComparison.Ordinal);
        Assert.DoesNotContain("\"ID\": \"b\"", filtered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthService_UnknownService_IsAnEmptyListWithAnIndex()
    {
        var (status, body, response) = await GetAsync("/v1/health/service/nothing-here");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("[]", body);
        Assert.True(Index(response) >= 1);
    }

    [Fact]
    public async Task BlockingQuery_CurrentIndex_WaitsForAChangeToTheService()
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a", Checks = [new SimulatedCheck { CheckID = "a-check", Status = "passing" }] });
        var (_, _, first) = await GetAsync("/v1/health/service/web");
        var index = Index(first);

        var blocked = GetAsync($"/v1/health/service/web?index={index}&wait=1m");
        _simulator.RegisterService(new SimulatedService { Name = "other", ID = "o" });
        await Eventually.HoldsAsync(() => _simulator.Index > index, "the other service's registration moved the raft index");
        Assert.False(blocked.IsCompleted);
        _simulator.SetCheckStatus("a-check", "warning");
        var (_, body, second) = await blocked.WaitAsync(Eventually.DefaultTimeout);

        Assert.True(Index(second) > index);
        Assert.Contains("\"Status\": \"warning\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockingQuery_NothingChanges_AnswersTheSameIndexWhenTheWaitEnds()
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a" });
        var (_, _, first) = await GetAsync("/v1/health/service/web");
        var index = Index(first);

        var blocked = GetAsync($"/v1/health/service/web?index={index}&wait=30s");
        await Eventually.HoldsAsync(
            () =>
            {
                _clock.Advance(TimeSpan.FromSeconds(5));
                return blocked.IsCompleted;
            },
            "the wait (plus up to wait/16) ran out on the fake clock");
        var (status, _, second) = await blocked;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(index, Index(second));
    }

    [Fact]
    public async Task NodeMaintenance_AddsTheCheckToEveryInstanceOnThatNodeOnly()
    {
        _simulator.RegisterService(new SimulatedService { Node = "n1", Name = "web", ID = "a" });
        _simulator.RegisterService(new SimulatedService { Node = "n1", Name = "api", ID = "b" });
        _simulator.RegisterService(new SimulatedService { Node = "n2", NodeAddress = "10.0.0.2", Name = "web", ID = "a" });

        _simulator.SetNodeMaintenance("n1", enable: true, reason: "kernel upgrade");
        var (_, web, _) = await GetAsync("/v1/health/service/web");
        var (_, api, _) = await GetAsync("/v1/health/service/api");

        using var json = JsonDocument.Parse(web);
        var byNode = json.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("Node").GetProperty("Node").GetString()!, e => e.GetProperty("Checks").EnumerateArray().Select(c => c.GetProperty("CheckID").GetString()).ToList());
        Assert.Contains("_node_maintenance", byNode["n1"]);
        Assert.DoesNotContain("_node_maintenance", byNode["n2"]);
        Assert.Contains("kernel upgrade", api, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceMaintenance_OverHttp_AddsACriticalCheckWithTheReason()
    {
        await PutAsync("/v1/agent/service/register", """{"Name":"web"}""");

        var (status, _, _) = await PutAsync("/v1/agent/service/maintenance/web?enable=true&reason=" + Uri.EscapeDataString("deploy"));
        var (_, body, _) = await GetAsync("/v1/health/service/web");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"CheckID\": \"_service_maintenance:web\"", body, StringComparison.Ordinal);
        Assert.Contains("\"Notes\": \"deploy\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopThenRestart_RefusesWhileDown_ThenServesTheSameStateOnTheSamePort()
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a" });
        var port = _simulator.Port;

        await _simulator.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync("/v1/health/service/web"));
        await _simulator.RestartAsync();
        var (status, body, _) = await GetAsync("/v1/health/service/web");

        Assert.Equal(port, _simulator.Port);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"ID\": \"a\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RewindIndex_NextAnswerCarriesTheLowerIndex()
    {
        _simulator.RegisterService(new SimulatedService { Name = "web", ID = "a" });
        var (_, _, before) = await GetAsync("/v1/health/service/web");

        _simulator.RewindIndex(3);
        var (_, _, after) = await GetAsync("/v1/health/service/web");

        Assert.True(Index(before) > 3);
        Assert.Equal(3UL, Index(after));
    }
}
