using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// What the container image would run, without a Docker engine: the Dockerfile's own <c>dotnet publish</c>
/// line into a temp folder, the published app started from there, and the image's HEALTHCHECK command.
/// </summary>
[Collection(SerialObservability.Name)]
public sealed partial class PublishedGatewayTests
{
    [Fact]
    public async Task Dockerfile_PublishedApp_AnswersLivenessMetricsAndHealthcheck()
    {
        var dockerfile = await File.ReadAllTextAsync(Tooling.RepoPath("Dockerfile"));
        var publish = PublishLine().Match(dockerfile);
        Assert.True(publish.Success, "the Dockerfile has a 'RUN dotnet publish ... -o /app' line");
        var healthcheck = HealthcheckLine().Match(dockerfile);
        Assert.True(healthcheck.Success, "the Dockerfile has a HEALTHCHECK CMD [\"dotnet\", \"HealthProxy.Gateway.dll\", ...]");
        var output = Directory.CreateTempSubdirectory("healthproxy-publish-").FullName;
        try
        {
            // The same command, with the image's /app swapped for the temp folder.
            var arguments = publish.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("-o").Append(output).ToList();
            var environment = new Dictionary<string, string> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
            var (published, log) = await Tooling.RunAsync("dotnet", arguments, environment: environment, timeout: TimeSpan.FromMinutes(5));
            Assert.True(published == 0, $"dotnet {string.Join(' ', arguments)} failed:\n{log}");
            Assert.True(File.Exists(Path.Combine(output, "appsettings.json")), "the root appsettings.json is published beside the app");

            var port = Tooling.FreePort();
            var metricsPort = Tooling.FreePort();
            using var gateway = StartPublished(output, port, metricsPort);
            try
            {
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                await Eventually.HoldsAsync(async () => await AnswersAsync(client, $"http://127.0.0.1:{port}/health/live"), "the published gateway answers /health/live", TimeSpan.FromSeconds(60));
                var metrics = await client.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
                Assert.Contains("healthproxy_instances{", metrics, StringComparison.Ordinal);

                var checkArguments = healthcheck.Groups["args"].Value.Split(',').Select(a => a.Trim().Trim('"')).Skip(1).ToList();
                var healthy = await Tooling.RunAsync("dotnet", checkArguments, output, new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString(CultureInfo.InvariantCulture) });
                Assert.True(healthy.ExitCode == 0, $"healthcheck exited {healthy.ExitCode}: {healthy.Output}");
                var nobody = await Tooling.RunAsync("dotnet", [.. checkArguments, Tooling.FreePort().ToString(CultureInfo.InvariantCulture)], output);
                Assert.Equal(1, nobody.ExitCode);
            }
            finally
            {
                gateway.Kill(entireProcessTree: true);
                await gateway.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static Process StartPublished(string directory, int port, int metricsPort)
    {
        var start = new ProcessStartInfo("dotnet", ["HealthProxy.Gateway.dll"])
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // Loopback only here; the image listens on every interface (ASPNETCORE_HTTP_PORTS=8080).
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["HealthProxy__Metrics__Port"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["HealthProxy__Metrics__Host"] = "127.0.0.1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<bool> AnswersAsync(HttpClient client, string url)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(url));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^RUN dotnet (?<args>publish .*?) -o /app\s*$", RegexOptions.Multiline)]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"^\s*CMD \[(?<args>""dotnet"", ""HealthProxy\.Gateway\.dll"", ""healthcheck"")\]\s*$", RegexOptions.Multiline)]
    private static partial Regex HealthcheckLine();
}
