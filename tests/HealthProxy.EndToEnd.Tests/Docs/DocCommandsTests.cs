using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using HealthProxy.EndToEnd.Tests.Observability;
using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests.Docs;

/// <summary>
/// Every shell command in README.md and docs/ is accounted for: run here as written (with a free port where the
/// command names a fixed one), or run by a named test or by CI, or, for what this machine cannot have (a Docker
/// engine, a Kubernetes cluster, a Consul binary), checked by a named stand-in. A new command without an entry
/// fails <see cref="EveryCommand_IsRunOrCovered"/>.
/// </summary>
[Collection(SerialObservability.Name)]
public sealed partial class DocCommandsTests
{
    /// <summary>How each command is exercised; the first pattern that matches decides.</summary>
    private static readonly (Regex Command, string How)[] Coverage =
    [
        (Rx(@"^dotnet run --project samples/HealthProxy\.Demo( -- --consul)?$"), "test:" + nameof(DemoTests)),
        (Rx(@"^bash \.ci/run$"), "ci: the command that runs this test"),
        (Rx(@"^(env '[^']+' )?dotnet run --project src/HealthProxy\.Gateway( -- .*)?$"), "run: " + nameof(GatewayCommands_AsWritten_StartAndServe)),
        (Rx(@"^npm ci --prefix config/tests/kubernetes && node config/tests/kubernetes/validate\.mjs$"), "test:" + nameof(KubernetesSchemaTests)),
        (Rx(@"^promtool (check config|test rules) "), "test:" + nameof(PromToolTests)),
        (Rx(@"^prometheus --config\.file=config/prometheus\.yml$"), "test:" + nameof(PromToolTests) + " (promtool check config on the same file)"),
        (Rx(@"^sudo bash config/image/(build-local|check)\.sh$"), "ci: .ci/run runs config/image/build-local.sh and check.sh"),
        (Rx(@"^docker (build|run) "), "stand-in: no Docker engine here; .ci/run builds the same Dockerfile with buildah and runs it (config/image)"),
        (Rx(@"^kubectl "), "stand-in: no cluster here; " + nameof(KubernetesSchemaTests) + " and " + nameof(KubernetesManifestTests)),
        (Rx(@"^consul agent -dev$"), "stand-in: no consul binary here; the Consul simulator follows the same API (" + nameof(ConsulDiscoveryTests) + ")"),
        (Rx(@"^grpc_health_probe "), "test:" + nameof(GrpcHealthTests)),
        (Rx(@"^(bash bench/\w+\.sh|B=bench/|dotnet \$B )"), "benchmark: minutes long, run by hand; " + nameof(EveryBenchmarkCommand_NamesAScriptThatExists)),
    ];

    [Fact]
    public void EveryCommand_IsRunOrCovered()
    {
        var commands = Commands().ToList();

        Assert.NotEmpty(commands);
        Assert.All(commands, c => Assert.True(Coverage.Any(k => k.Command.IsMatch(c.Command)), $"{c.File}: no test runs or covers `{c.Command}`; add it to {nameof(Coverage)}"));
    }

    [Fact]
    public void EveryBenchmarkCommand_NamesAScriptThatExists()
    {
        var scripts = Commands().Select(c => BenchScript().Match(c.Command)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(scripts);
        // A built benchmark is named by its project: the dll appears once the project is built.
        Assert.All(scripts, script =>
        {
            var file = script.EndsWith(".dll", StringComparison.Ordinal) ? string.Join('/', script.Split('/')[..2]) + $"/{script.Split('/')[1]}.csproj" : script;
            Assert.True(File.Exists(Tooling.RepoPath(file.Split('/'))), $"{file} does not exist");
        });
    }

    [Fact]
    public async Task GatewayCommands_AsWritten_StartAndServe()
    {
        var gatewayCommands = Commands().Where(c => c.Command.Contains("dotnet run --project src/HealthProxy.Gateway", StringComparison.Ordinal)).ToList();
        Assert.True(gatewayCommands.Count >= 4, string.Join("\n", gatewayCommands));

        // $PWD is the reader's directory; the README's quick start writes my-gateway.json there.
        var pwd = Directory.CreateTempSubdirectory("healthproxy-docs-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(pwd.FullName, "my-gateway.json"), QuickStartConfig());
            foreach (var (file, command) in gatewayCommands)
            {
                await RunGatewayCommandAsync(file, command, pwd.FullName);
            }
        }
        finally
        {
            pwd.Delete(recursive: true);
        }
    }

    [Fact]
    public void Readme_OpensWithTheTwoCommands()
    {
        var first = Commands().Where(c => c.File == "README.md").Take(2).Select(c => c.Command).ToList();

        Assert.Equal(["dotnet run --project samples/HealthProxy.Demo", "bash .ci/run"], first);
        Assert.Contains("dotnet test", File.ReadAllText(Tooling.RepoPath(".ci", "run")), StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs a documented <c>dotnet run --project src/HealthProxy.Gateway</c> as the built gateway (what dotnet run starts,
    /// from the repository root, its RunWorkingDirectory), with the command's arguments and environment, and waits until
    /// it has started and says which configuration file it loaded.
    /// </summary>
    private static async Task RunGatewayCommandAsync(string file, string command, string pwd)
    {
        var words = Words(command.Replace("$PWD", pwd, StringComparison.Ordinal));
        var environment = new Dictionary<string, string>();
        if (words[0] == "env")
        {
            var (key, value) = (words[1].Split('=', 2)[0], words[1].Split('=', 2)[1]);
            environment[key] = value;
            words = words[2..];
        }

        var arguments = words.SkipWhile(w => w != "--").Skip(1).ToList();
        var port = Tooling.FreePort();
        var urls = arguments.IndexOf("--urls");
        if (urls >= 0)
        {
            arguments[urls + 1] = $"http://127.0.0.1:{port}";   // the documented port may be taken on a test machine
        }
        else
        {
            arguments.AddRange(["--urls", $"http://127.0.0.1:{port}"]);
        }

        environment["HealthProxy__Shutdown__DrainDelay"] = "00:00:00";
        using var gateway = DocumentedGateway.Start(arguments, environment);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(
            async () => gateway.HasExited || (await TryGetAsync(client, "/health/startup")) == 200,
            $"`{command}` ({file}) has started",
            TimeSpan.FromSeconds(60));

        if (gateway.HasExited)
        {
            Assert.Fail($"`{command}` ({file}) exited {gateway.ExitCode}:\n{gateway.Output}");
        }

        var expected = arguments.IndexOf("--HealthProxy:ConfigFile") is var at and >= 0
            ? Path.Combine(Tooling.RepoRoot, arguments[at + 1])   // a relative file is relative to the content root
            : Tooling.RepoPath("appsettings.json");
        Assert.Contains($"Configuration files loaded (later ones override earlier ones): {expected}", gateway.Output, StringComparison.Ordinal);
    }

    private static async Task<int> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>The README's quick-start configuration: its first JSON block.</summary>
    private static string QuickStartConfig() =>
        JsonBlock().Match(File.ReadAllText(Tooling.RepoPath("README.md"))).Groups[1].Value;

    /// <summary>Every command line of every <c>sh</c> block: continuation lines joined, trailing comments removed.</summary>
    private static IEnumerable<(string File, string Command)> Commands()
    {
        var files = Directory.GetFiles(Tooling.RepoPath("docs"), "*.md").Order(StringComparer.Ordinal).Prepend(Tooling.RepoPath("README.md"));
        foreach (var path in files)
        {
            var name = Path.GetRelativePath(Tooling.RepoRoot, path);
            foreach (Match block in ShBlock().Matches(File.ReadAllText(path)))
            {
                var pending = "";
                foreach (var raw in block.Groups[1].Value.Split('\n'))
                {
                    var line = Comment().Replace(raw, "").TrimEnd();
                    if (line.Trim().Length == 0)
                    {
                        continue;
                    }

                    if (line.EndsWith('\\'))
                    {
                        pending += line[..^1].Trim() + " ";
                        continue;
                    }

                    yield return (name, (pending + line.Trim()).Trim());
                    pending = "";
                }
            }
        }
    }

    /// <summary>Shell words: single and double quotes grouped and removed.</summary>
    private static List<string> Words(string command) =>
        Word().Matches(command).Select(m => m.Groups["s"].Success ? m.Groups["s"].Value : m.Groups["d"].Success ? m.Groups["d"].Value : m.Value).ToList();

    private static Regex Rx(string pattern) => new(pattern, RegexOptions.CultureInvariant);

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShBlock();

    [GeneratedRegex(@"```json\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    // A comment: a '#' after whitespace (or at the start), outside the commands these pages use.
    [GeneratedRegex(@"(^|\s)#\s.*$")]
    private static partial Regex Comment();

    [GeneratedRegex(@"'(?<s>[^']*)'|""(?<d>[^""]*)""|\S+")]
    private static partial Regex Word();

    [GeneratedRegex(@"(bench/[\w./]+?\.(sh|dll))")]
    private static partial Regex BenchScript();

    /// <summary>What <c>dotnet run --project src/HealthProxy.Gateway</c> starts: the built gateway, in the repository root.</summary>
    private sealed class DocumentedGateway : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();

        private DocumentedGateway(ProcessStartInfo start)
        {
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        public int ExitCode => _process.ExitCode;

        public string Output => string.Join('\n', _output);

        public static DocumentedGateway Start(IEnumerable<string> arguments, IDictionary<string, string> environment)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = Tooling.RepoRoot,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HealthProxy.Gateway.dll"));
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            return new DocumentedGateway(start);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
