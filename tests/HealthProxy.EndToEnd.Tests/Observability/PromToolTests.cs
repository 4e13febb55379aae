namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>The deployment config checked by Prometheus's own tool, and a live /metrics sample linted by it.</summary>
[Collection(SerialObservability.Name)]
public sealed class PromToolTests
{
    private static string PromTool => Tooling.Require("promtool", "prometheus");

    [Fact]
    public async Task AlertRules_CheckRules_Valid()
    {
        var (exitCode, output) = await Tooling.RunAsync(PromTool, ["check", "rules", Tooling.RepoPath("config", "alerts.yml")]);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task AlertRules_UnitTests_EveryAlertFiresAsWritten()
    {
        var (exitCode, output) = await Tooling.RunAsync(PromTool, ["test", "rules", Tooling.RepoPath("config", "tests", "alerts.test.yml")]);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task AlertRules_UnitTests_CoverEveryAlert()
    {
        var rules = await File.ReadAllTextAsync(Tooling.RepoPath("config", "alerts.yml"));
        var tests = await File.ReadAllTextAsync(Tooling.RepoPath("config", "tests", "alerts.test.yml"));
        var alerts = System.Text.RegularExpressions.Regex.Matches(rules, @"- alert: (\w+)").Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(alerts);
        Assert.All(alerts, alert => Assert.Contains($"alertname: {alert}\n        exp_alerts:\n          - exp_labels", tests, StringComparison.Ordinal));
        Assert.All(alerts, alert => Assert.Matches($@"alert: {alert}\n(.+\n)+?\s+runbook: ", rules));
    }

    [Fact]
    public async Task PrometheusConfig_CheckConfig_Valid()
    {
        var (exitCode, output) = await Tooling.RunAsync(PromTool, ["check", "config", Tooling.RepoPath("config", "prometheus.yml")]);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task MetricsSample_CheckMetrics_OwnFamiliesLintClean()
    {
        using var backend = Backend.Start("a");
        await using var gateway = await GatewayHost.StartAsync(GatewaySettings.For([backend]));
        await gateway.WaitStartedAsync();
        await gateway.SendAsync(HttpMethod.Get, "/items", 2);
        var sample = await gateway.Client.GetStringAsync("/metrics");

        var (exitCode, output) = await Tooling.RunAsync(PromTool, ["check", "metrics"], stdin: sample);

        // .NET's own System.Runtime names (dotnet.assembly.count, ...) trip promtool's "_count" lint; ours must not.
        var complaints = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith("dotnet_", StringComparison.Ordinal)).ToList();
        Assert.True(complaints.Count == 0, $"promtool check metrics (exit {exitCode}):\n{output}");
        Assert.Contains(sample.Split('\n'), line => line.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal) && line.Contains("cluster=", StringComparison.Ordinal));
    }
}
