using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;
using HealthProxy.Testing;

namespace HealthProxy.Reliability.Tests.Shutdown;

/// <summary>
/// The gateway as a separate process, as a pod runs it: <c>dotnet HealthProxy.Gateway.dll</c> (the build beside
/// this test assembly), configured by environment variables only, listening on loopback port 0.
/// </summary>
internal sealed partial class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private readonly string _contentRoot;

    private GatewayProcess(Process process, ConcurrentQueue<string> output, string contentRoot)
    {
        _process = process;
        _output = output;
        _contentRoot = contentRoot;
    }

    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The process's output so far (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts the gateway with <paramref name="settings"/> (configuration keys) and waits until it says where it listens.</summary>
    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string?> settings, TimeSpan timeout)
    {
        // An empty content root: no appsettings.json, so the test's settings are the whole configuration.
        var contentRoot = Directory.CreateTempSubdirectory("healthproxy-shutdown-").FullName;
        var start = GatewayCommand.For(contentRoot);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var output = new ConcurrentQueue<string>();
        Uri? address = null;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                Volatile.Write(ref address, new Uri(match.Groups["url"].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, output, contentRoot);
        await Eventually.HoldsAsync(
            () => Volatile.Read(ref address) is not null || process.HasExited,
            "the gateway process logs the address it listens on",
            timeout);
        if (process.HasExited || Volatile.Read(ref address) is null)
        {
            gateway.Dispose();
            Assert.Fail($"the gateway process exited before listening:\n{gateway.Output}");
        }

        gateway.Address = Volatile.Read(ref address)!;
        return gateway;
    }

    /// <summary>Sends SIGTERM, as the kubelet does when a pod is deleted.</summary>
    public void Terminate()
    {
        if (NativeMethods.Kill(_process.Id, NativeMethods.SigTerm) != 0)
        {
            throw new Win32Exception();
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_contentRoot, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
