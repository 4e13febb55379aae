using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HealthProxy.Reliability.Tests.Soak;

/// <summary>
/// The gateway's built output run as its own process (<c>dotnet HealthProxy.Gateway.dll</c>) from a folder
/// holding its <c>appsettings.json</c>, listening on 127.0.0.1 port 0; its console log is kept by level,
/// and its RSS and open handles are read from <c>/proc</c>.
/// </summary>
public sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<string, long> _errorsBySource = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _warnings;
    private long _errorCount;
    private long _unobserved;

    private GatewayProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public long Warnings => Interlocked.Read(ref _warnings);

    /// <summary>Log entries at Error or Critical.</summary>
    public long Errors => Interlocked.Read(ref _errorCount);

    /// <summary>Unobserved task exceptions the gateway logged.</summary>
    public long UnobservedTaskExceptions => Interlocked.Read(ref _unobserved);

    /// <summary>Error/Critical entries by their source, <c>Category[EventId]</c>.</summary>
    public IReadOnlyDictionary<string, long> ErrorsBySource => _errorsBySource;

    /// <summary>The first few Error/Critical lines from sources not in <paramref name="expected"/>.</summary>
    public IReadOnlyList<string> ErrorSamples(IReadOnlySet<string> expected) => [.. _errors.Where(e => !expected.Contains(Source(e)))];

    /// <summary>Starts the gateway with <paramref name="appSettingsDirectory"/> as its working directory and content root.</summary>
    public static GatewayProcess Start(string appSettingsDirectory)
    {
        var start = new ProcessStartInfo("dotnet", [BuiltGatewayPath()])
        {
            WorkingDirectory = appSettingsDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (!ReliabilityMode.IsLong)
        {
            // Server GC's gen0 budget is larger than what a one-minute run allocates (~30 MB), so RSS would
            // only show allocation before the first collection, leak or not. An 8 MiB budget makes the
            // short run collect every few seconds; the 30-minute run keeps the gateway's own settings.
            start.Environment["DOTNET_GCgen0size"] = "0x800000";
        }

        return new GatewayProcess(Process.Start(start)!);
    }

    /// <summary>The base address the gateway logged it listens on.</summary>
    public Task<string> ListeningAsync(TimeSpan timeout) => _listening.Task.WaitAsync(timeout);

    /// <summary>Resident set size, from <c>/proc/&lt;pid&gt;/status</c> (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("No VmRSS in /proc/" + Pid + "/status.");
    }

    /// <summary>Open file descriptors (files, sockets, pipes): the entries of <c>/proc/&lt;pid&gt;/fd</c>.</summary>
    public int OpenHandles() => Directory.GetFileSystemEntries($"/proc/{Pid}/fd").Length;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    /// <summary>The gateway's own build output beside this test's: same configuration and target framework.</summary>
    private static string BuiltGatewayPath()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "HealthProxy.sln")))
        {
            root = root.Parent;
        }

        var path = Path.Combine(root?.FullName ?? throw new InvalidOperationException("No HealthProxy.sln above " + AppContext.BaseDirectory), "src", "HealthProxy.Gateway", "bin", configuration, framework, "HealthProxy.Gateway.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the solution first: the soak runs the gateway's built output.", path);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (Listening().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(match.Groups["url"].Value);
        }

        if (line.StartsWith("warn:", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _warnings);
        }
        else if (line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _errorCount);
            var source = Source(line);
            if (_errorsBySource.AddOrUpdate(source, 1, (_, n) => n + 1) <= 3)
            {
                _errors.Enqueue(line.Length > 400 ? line[..400] : line);
            }

            if (line.Contains("nobody observed", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _unobserved);
            }
        }
    }

    // "fail: Category[EventId] message" (the simple console formatter, single line).
    private static string Source(string line) => line.Split(' ', 3) is [_, var source, ..] ? source : line;

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
