using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests;

/// <summary>One line of the reliability report.</summary>
/// <param name="Suite">The section: backend, registry, input, soak, shutdown.</param>
/// <param name="Scenario">What was broken, in a few words.</param>
/// <param name="Requests">Client requests sent during the scenario.</param>
/// <param name="Failures">Client requests that failed (beyond those the scenario expects, which go in <paramref name="Details"/>).</param>
/// <param name="Passed">Whether every assertion of the scenario held.</param>
/// <param name="Details">Measurements: times to leave and return, writes at non-healthy instances, RSS, ...</param>
public sealed record ScenarioResult(string Suite, string Scenario, long Requests, long Failures, bool Passed, string Details)
{
    public string Verdict => Passed ? "pass" : "FAIL";
}

/// <summary>
/// The table every reliability scenario reports to: printed to the test output, and written (one
/// Markdown row per scenario, the file started afresh by each test run) to <c>artifacts/reliability-{mode}.md</c> beside the test assembly, so a
/// whole run ends with one table of scenario, requests, failures, verdict.
/// </summary>
public static class ScenarioTable
{
    private static readonly ConcurrentQueue<ScenarioResult> Results = new();
    private static readonly object FileLock = new();
    private static bool _fileStarted;

    public static string FilePath { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", $"reliability-{ReliabilityMode.Name}.md");

    public static IReadOnlyCollection<ScenarioResult> All => Results.ToArray();

    public const string Header = "| suite | scenario | requests | failures | verdict | details |\n|---|---|---:|---:|---|---|";

    /// <summary>Records <paramref name="result"/>, writes it to <paramref name="output"/> and the report file, and fails the test when it did not pass.</summary>
    public static void Report(ITestOutputHelper output, ScenarioResult result)
    {
        Results.Enqueue(result);
        var row = Row(result);
        output.WriteLine(Header);
        output.WriteLine(row);
        lock (FileLock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            if (!_fileStarted)
            {
                _fileStarted = true;
                File.WriteAllText(FilePath, $"# Reliability ({ReliabilityMode.Name}) {DateTimeOffset.UtcNow:u}\n\n{Header}\n");
            }

            File.AppendAllText(FilePath, row + "\n");
        }

        Assert.True(result.Passed, $"{result.Suite}/{result.Scenario} failed: {result.Details}");
    }

    public static string Row(ScenarioResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"| {r.Suite} | {r.Scenario} | {r.Requests} | {r.Failures} | {r.Verdict} | {Escape(r.Details)} |");

    private static string Escape(string text) => new StringBuilder(text).Replace("|", "\\|").Replace("\n", "; ").ToString();
}
