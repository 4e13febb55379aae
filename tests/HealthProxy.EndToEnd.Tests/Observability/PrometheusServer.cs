using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c> package) on a free loopback port, scraping the given targets
/// every second, with its own TSDB in a temp folder; stopped and removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private PrometheusServer(Process process, string directory, HttpClient client)
    {
        _process = process;
        _directory = directory;
        Client = client;
    }

    public HttpClient Client { get; }

    public static PrometheusServer Start(string target, string ruleFile)
    {
        var binary = Tooling.Require("prometheus", "prometheus");
        var directory = Directory.CreateTempSubdirectory("healthproxy-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {ruleFile}
            scrape_configs:
              - job_name: healthproxy
                static_configs:
                  - targets: ['{target}']
            """);
        var port = Tooling.FreePort();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in new[]
        {
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        return new PrometheusServer(process, directory, client);
    }

    /// <summary>The single value of an instant query, or null when it has no result (or Prometheus is not up yet).</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        try
        {
            using var document = JsonDocument.Parse(await Client.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}"));
            var result = document.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0
                ? null
                : double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The health of the scrape target as Prometheus reports it ("up", "down", "unknown"), or null.</summary>
    public async Task<string?> TargetHealthAsync()
    {
        try
        {
            using var document = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/targets"));
            var targets = document.RootElement.GetProperty("data").GetProperty("activeTargets");
            return targets.GetArrayLength() == 0 ? null : targets[0].GetProperty("health").GetString();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The names of the alerting rules Prometheus loaded.</summary>
    public async Task<List<string>> AlertRuleNamesAsync()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/rules?type=alert"));
        return [.. document.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => r.GetProperty("name").GetString()!)];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
