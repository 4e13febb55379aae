using System.Text;
using CsCheck;
using HealthProxy.Health;

namespace HealthProxy.Health.Tests.Fuzz;

/// <summary>
/// <see cref="StatusDocumentJson.TryParse(ReadOnlySpan{byte}, out StatusDocument?)"/> reads what services
/// publish and what probes answer: anything at all may arrive. It must answer true with a valid document or
/// false, never throw, and allocate in proportion to its input. CsCheck prints the seed of a failing case.
/// </summary>
public class StatusDocumentJsonFuzzTests
{
    private const int Iterations = 3_000;

    private static readonly string[] States =
        ["healthy", "Healthy", "ready", "alive", "ok", "UP", "pass", "degraded", "warn", "unhealthy", "down", "fail", "starting", "draining", "sideways", "", " ok ", "héalthy"];

    private static readonly string[] Keys = ["status", "Status", "service", "own", "dependencies", "critical", "checks", "x", ""];

    /// <summary>Any JSON value, biased towards the shapes the parser looks for.</summary>
    private static readonly Gen<string> JsonValue = Gen.Recursive<string>((depth, self) =>
    {
        var scalar = Gen.OneOf(
            Gen.OneOf(States).Select(Quote),
            Gen.String.Select(Quote),
            Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e309"),
            Gen.OneOf("true", "false", "null", "\"\\ud800\"", "\"\\u0000\""));
        if (depth >= 5)
        {
            return scalar;
        }

        var member = Gen.Select(Gen.OneOf(Gen.OneOf(Keys), Gen.String), self, (k, v) => Quote(k) + ":" + v);
        return Gen.Frequency(
            (4, scalar),
            (3, member.Array[0, 6].Select(m => "{" + string.Join(",", m) + "}")),
            (1, self.Array[0, 4].Select(v => "[" + string.Join(",", v) + "]")));
    });

    /// <summary>A status document (mostly well formed) with random members around the known ones.</summary>
    private static readonly Gen<string> DocumentLike = Gen.Select(
        Gen.OneOf(States),
        Gen.Select(Gen.OneOf(Gen.OneOf(Keys), Gen.String), JsonValue).Array[0, 5],
        Gen.Select(Gen.String, Gen.OneOf(States), Gen.OneOf(Gen.OneOf("true", "false"), JsonValue)).Array[0, 5],
        (status, extra, deps) =>
            "{\"status\":" + Quote(status)
            + string.Concat(extra.Select(e => "," + Quote(e.Item1) + ":" + e.Item2))
            + ",\"dependencies\":{" + string.Join(",", deps.Select(d => Quote(d.Item1) + ":{\"status\":" + Quote(d.Item2) + ",\"critical\":" + d.Item3 + "}")) + "}}");

    /// <summary>Byte-level damage: truncation, a flipped byte, invalid UTF-8 spliced in.</summary>
    private static Gen<byte[]> Mutated(Gen<string> source) => Gen.Select(source, Gen.Int[0, 3], Gen.Int.Positive, Gen.Byte, (text, how, at, value) =>
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return bytes;
        }

        var i = at % bytes.Length;
        switch (how)
        {
            case 0:
                return bytes[..i];
            case 1:
                bytes[i] = value;
                return bytes;
            case 2:
                return [.. bytes[..i], 0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80, .. bytes[i..]];
            default:
                return bytes;
        }
    });

    [Fact]
    public void TryParse_ArbitraryBytes_NeverThrows() =>
        Gen.Byte.Array[0, 2048].Sample(AssertWellBehaved, iter: Iterations);

    [Fact]
    public void TryParse_ArbitraryJson_NeverThrows() =>
        JsonValue.Select(Encoding.UTF8.GetBytes).Sample(AssertWellBehaved, iter: Iterations);

    [Fact]
    public void TryParse_MutatedDocuments_NeverThrow() =>
        Mutated(DocumentLike).Sample(AssertWellBehaved, iter: Iterations / 2);

    [Fact]
    public void TryParse_InvalidUtf8InNames_ReturnsFalseOrADocument() =>
        Gen.Select(Gen.OneOf("service", "dependencies"), Gen.Byte.Array[1, 8])
            .Select(t => t.Item1 == "service"
                ? [.. "{\"status\":\"ok\",\"service\":\""u8, .. t.Item2, .. "\"}"u8]
                : (byte[])[.. "{\"status\":\"ok\",\"dependencies\":{\""u8, .. t.Item2, .. "\":\"healthy\"}}"u8])
            .Sample(AssertWellBehaved, iter: Iterations);

    [Fact]
    public void TryParse_DeeplyNested_ReturnsFalseOrADocument() =>
        Gen.Select(Gen.Int[1, 20_000], Gen.OneOf("[", "{\"a\":"), Gen.Bool).Sample((depth, open, inDependencies) =>
        {
            var nested = new StringBuilder(inDependencies ? "{\"status\":\"ok\",\"dependencies\":{\"db\":" : "{\"status\":\"ok\",\"x\":");
            for (var i = 0; i < depth; i++)
            {
                nested.Append(open);
            }

            AssertWellBehaved(Encoding.UTF8.GetBytes(nested.Append("1}").ToString()));
        }, iter: 200);

    [Fact]
    public void TryParse_HugeStrings_AllocateInProportion() =>
        Gen.Select(Gen.Int[1_000, 2_000_000], Gen.OneOf("service", "status", "dependencies", "own", "other")).Sample((length, key) =>
        {
            var big = new string('a', length);
            var json = key == "dependencies"
                ? "{\"status\":\"ok\",\"dependencies\":{\"" + big + "\":\"degraded\"}}"
                : "{\"status\":\"ok\",\"" + key + "\":\"" + big + "\"}";
            AssertWellBehaved(Encoding.UTF8.GetBytes(json));
        }, iter: 40);

    [Fact]
    public void WriteThenTryParse_AnyDocument_RoundTrips() =>
        Gen.Select(
            Gen.Enum<HealthState>(),
            Gen.Null(Gen.String),
            Gen.Nullable(Gen.Enum<HealthState>()),
            Gen.Select(Gen.String, Gen.Enum<HealthState>(), Gen.Bool).Array[0, 6])
        .Sample((status, service, own, pairs) =>
        {
            var dependencies = new Dictionary<string, DependencyStatus>(StringComparer.Ordinal);
            foreach (var (name, state, critical) in pairs)
            {
                dependencies[name] = new DependencyStatus(state, critical);
            }

            var document = new StatusDocument { Status = status, Service = service, Own = own, Dependencies = dependencies };

            Assert.True(StatusDocumentJson.TryParse(StatusDocumentJson.Write(document), out var parsed));

            Assert.Equal(status, parsed!.Status);
            Assert.Equal(service, parsed.Service);
            Assert.Equal(own, parsed.Own);
            Assert.Equal(dependencies.OrderBy(d => d.Key, StringComparer.Ordinal), parsed.Dependencies.OrderBy(d => d.Key, StringComparer.Ordinal));
        }, iter: Iterations);

    private static void AssertWellBehaved(byte[] input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var parsed = StatusDocumentJson.TryParse(input, out var document);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Linear in the input, never worse: strings are copied out as UTF-16 (at most two bytes per input byte), and a
        // rejected input costs one exception, whose message quotes the rest of the input from the bad token on (an
        // invalid literal near the start of an 18 KB body measured about 10 bytes per input byte) plus its stack trace.
        Assert.True(allocated <= (12L * input.Length) + 65_536, $"allocated {allocated} bytes for a {input.Length}-byte input");
        if (!parsed)
        {
            Assert.Null(document);
            return;
        }

        Assert.NotNull(document);
        Assert.True(Enum.IsDefined(document.Status));
        Assert.True(document.Own is null || Enum.IsDefined(document.Own.Value));
        Assert.All(document.Dependencies.Values, d => Assert.True(Enum.IsDefined(d.Status)));
    }

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
