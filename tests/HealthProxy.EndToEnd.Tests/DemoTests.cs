using System.Globalization;
using System.Text.RegularExpressions;
using HealthProxy.EndToEnd.Tests.Observability;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>
/// The README's first command, run as a user runs it (the demo as its own process): traffic goes where the
/// instances' states say, with static destinations and probes, and with Consul (the simulator) in the middle.
/// </summary>
[Collection(SerialObservability.Name)]
public sealed partial class DemoTests
{
    [Fact]
    public async Task StaticDemo_BeforeTheTourChangesAnything_ReadsGoToHealthyAndDegraded_WritesToHealthyOnly()
    {
        var lines = await RunDemoAsync(duration: 7);

        // a healthy, b degraded, c draining until the tour's first step at 8 s.
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Equal(("healthy", "degraded", "draining"), (line.States["a"], line.States["b"], line.States["c"])));
        Assert.Contains(lines, line => line.Reads.ContainsKey("a") && line.Reads.ContainsKey("b"));
        Assert.All(lines, line => Assert.Equal(["a"], line.Writes.Keys));
        Assert.All(lines, line => Assert.DoesNotContain("c", line.Reads.Keys));
    }

    [Fact]
    public async Task ConsulDemo_InstancesPublishToTheSimulator_TheGatewayRoutesByWhatConsulSays()
    {
        var lines = await RunDemoAsync(duration: 16, "--consul");

        var beforeReady = lines.Where(l => l.States["c"] == "starting").ToList();
        Assert.NotEmpty(beforeReady);
        Assert.Contains(beforeReady, line => line.Reads.ContainsKey("a") && line.Reads.ContainsKey("b"));
        Assert.All(beforeReady, line => Assert.DoesNotContain("b", line.Writes.Keys));
        Assert.All(beforeReady, line => Assert.DoesNotContain("c", line.Reads.Keys.Concat(line.Writes.Keys)));

        // c marks itself ready at 8 s; Consul's passing check reaches the gateway by the next TTL update.
        Assert.Contains(lines, line => line.States["c"] == "healthy" && line.Reads.ContainsKey("c") && line.Writes.ContainsKey("c"));
    }

    private static async Task<List<DemoLine>> RunDemoAsync(int duration, params string[] options)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;   // bin/<Configuration>/net10.0
        var demo = Tooling.RepoPath("samples", "HealthProxy.Demo", "bin", configuration, "net10.0", "HealthProxy.Demo.dll");
        Assert.True(File.Exists(demo), $"the demo is not built at {demo}");
        var (exitCode, output) = await Tooling.RunAsync(
            "dotnet",
            [demo, "--duration", duration.ToString(CultureInfo.InvariantCulture), "--port", Tooling.FreePort().ToString(CultureInfo.InvariantCulture), .. options],
            timeout: TimeSpan.FromSeconds(duration + 60));

        Assert.True(exitCode == 0, output);
        return output.Split('\n').Select(l => Line().Match(l)).Where(m => m.Success).Select(DemoLine.From).ToList();
    }

    // "[  2s] a=healthy   b=degraded  c=starting  | reads -> a:20 b:4         | writes -> a:12"
    [GeneratedRegex(@"^\[\s*\d+s\] (?<states>.+?) \| reads -> (?<reads>.*?) \| writes -> (?<writes>.*)$")]
    private static partial Regex Line();

    private sealed record DemoLine(Dictionary<string, string> States, Dictionary<string, int> Reads, Dictionary<string, int> Writes)
    {
        public static DemoLine From(Match match) => new(
            Pairs(match.Groups["states"].Value, '=').ToDictionary(p => p.Key, p => p.Value),
            Pairs(match.Groups["reads"].Value, ':').ToDictionary(p => p.Key, p => int.Parse(p.Value, CultureInfo.InvariantCulture)),
            Pairs(match.Groups["writes"].Value, ':').ToDictionary(p => p.Key, p => int.Parse(p.Value, CultureInfo.InvariantCulture)));

        private static IEnumerable<KeyValuePair<string, string>> Pairs(string text, char separator) =>
            text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(pair => pair.Split(separator, 2))
                .Select(pair => KeyValuePair.Create(pair[0], pair[1]));
    }
}
