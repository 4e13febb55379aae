using System.Net;
using System.Text.Json.Nodes;
using CsCheck;
using HealthProxy.Consul.Discovery;

namespace HealthProxy.Consul.Tests.Fuzz;

/// <summary>
/// Consul's <c>/v1/health/service</c> answer, damaged at random (types changed, fields dropped, nulls, huge
/// arrays, duplicate identities, weird ports and addresses), read by the client and mapped: the result is a
/// typed <see cref="ConsulException"/> or a valid mapping, never another exception. CsCheck prints the seed of a failing case.
/// </summary>
public class HealthServiceMappingFuzzTests
{
    private const int Iterations = 1_000;

    private static readonly string Sample = Fixture.Read("health-service.json");

    /// <summary>Replacement values: every JSON type, and the ports and addresses that break naive code.</summary>
    private static readonly Gen<JsonNode?> Values = Gen.OneOf(
        Gen.Const(static () => (JsonNode?)null),
        Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.OneOf(-1L, 0L, 65535L, 65536L, 1L << 40, long.MinValue).Select(l => (JsonNode?)JsonValue.Create(l)),
        Gen.Double.Select(d => (JsonNode?)JsonValue.Create(double.IsFinite(d) ? d : 1.5)),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.String.Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.OneOf("", " ", "::1", "[::1]", "10.0.0.1:80", "http://evil/", "a b", "x/y?z#w", "_node_maintenance", "_service_maintenance:redis", "critical", "warning", "{\"status\":\"draining\"}", new string('a', 70_000))
            .Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Const(() => (JsonNode?)new JsonArray(null, JsonValue.Create(1), JsonValue.Create("x"))),
        Gen.Const(() => (JsonNode?)new JsonObject { ["a"] = null }));

    [Fact]
    public async Task GetHealthServiceThenMapAll_MutatedSample_TypedErrorOrValidMapping() =>
        await Gen.Select(Gen.Int[1, 6], Gen.Int.Positive.Array[6], Values.Array[6], Gen.Int[0, 4].Array[6])
            .SampleAsync(async (count, picks, values, actions) =>
            {
                var root = JsonNode.Parse(Sample)!.AsArray();
                for (var i = 0; i < count; i++)
                {
                    Mutate(root, picks[i], values[i], actions[i]);
                }

                await AssertTypedErrorOrValidMapping(root.ToJsonString());
            }, iter: Iterations);

    [Fact]
    public async Task GetHealthServiceThenMapAll_ManyEntriesAndDuplicates_TypedErrorOrValidMapping() =>
        await Gen.Select(Gen.Int[0, 2_000], Gen.Int[0, 3], Gen.Bool).SampleAsync(async (entries, duplicates, sameNode) =>
        {
            var template = JsonNode.Parse(Sample)!.AsArray()[0]!;
            var root = new JsonArray();
            for (var i = 0; i < entries; i++)
            {
                var entry = template.DeepClone();
                entry["Service"]!["ID"] = i < duplicates ? "dup" : $"redis-{i}";
                entry["Node"]!["Node"] = sameNode ? "foobar" : $"node-{i % 7}";
                root.Add(entry);
            }

            await AssertTypedErrorOrValidMapping(root.ToJsonString());
        }, iter: 8);

    [Fact]
    public async Task GetHealthServiceThenMapAll_ArbitraryJson_TypedErrorOrValidMapping() =>
        await Gen.OneOf(
                Gen.String,
                Gen.OneOf("null", "{}", "[]", "[null]", "[{}]", "[{\"Node\":{},\"Service\":{}}]", "[{\"Node\":{\"Node\":\"n\"},\"Service\":{\"ID\":\"s\"},\"Checks\":[null]}]", "[1,2]", "\"x\"", new string('[', 100)),
                Gen.Const(() => Sample[..(Sample.Length / 2)]))
            .SampleAsync(AssertTypedErrorOrValidMapping, iter: Iterations);

    /// <summary>Applies one damage at the <paramref name="pick"/>-th node of the tree (depth-first).</summary>
    private static void Mutate(JsonArray root, int pick, JsonNode? value, int action)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var target = nodes[pick % nodes.Count];
        switch (target)
        {
            case JsonObject obj when obj.Count > 0:
                var key = obj.ElementAt(pick % obj.Count).Key;
                if (action == 0)
                {
                    obj.Remove(key);
                }
                else
                {
                    obj[key] = value;
                }

                break;
            case JsonArray array when array.Count > 0:
                var index = pick % array.Count;
                if (action == 0)
                {
                    array.RemoveAt(index);
                }
                else if (action == 1)
                {
                    // The same entry twice: a duplicate identity.
                    array.Add(array[index]?.DeepClone());
                }
                else
                {
                    array[index] = value;
                }

                break;
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> nodes)
    {
        if (node is null)
        {
            return;
        }

        nodes.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Collect(child, nodes);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Collect(child, nodes);
                }

                break;
        }
    }

    private static async Task AssertTypedErrorOrValidMapping(string body)
    {
        var client = TestClients.For(new ConsulClientOptions { Address = new Uri("http://127.0.0.1:8500") }, new StubHandler(HttpStatusCode.OK, body, headers: new Dictionary<string, string> { ["X-Consul-Index"] = "7" }));
        IReadOnlyList<ConsulServiceInstance> instances;
        try
        {
            var result = await client.GetHealthServiceAsync("redis");
            instances = ConsulInstanceMapper.MapAll(result.Value);
        }
        catch (ConsulException ex)
        {
            Assert.Equal(ConsulErrorKind.MalformedResponse, ex.Kind);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            return;
        }

        Assert.Equal(instances.Count, instances.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count());
        foreach (var instance in instances)
        {
            Assert.False(string.IsNullOrEmpty(instance.Node));
            Assert.False(string.IsNullOrEmpty(instance.ServiceId));
            Assert.Equal(instance.Node + "/" + instance.ServiceId, instance.Id);
            Assert.NotNull(instance.Address);
            Assert.InRange(instance.Port, 0, 65535);
            Assert.DoesNotContain(null, instance.Tags);
            Assert.True(Enum.IsDefined(instance.State) && Enum.IsDefined(instance.CheckState));
        }
    }
}
