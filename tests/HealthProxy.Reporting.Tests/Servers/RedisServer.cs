using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using HealthProxy.Testing;
using StackExchange.Redis;

namespace HealthProxy.Reporting.Tests.Servers;

/// <summary>
/// A throw-away redis-server on 127.0.0.1 at a free port, with no persistence and its files in a temp
/// directory; optionally a read-only replica of a primary that does not exist.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private const string Binary = "/usr/bin/redis-server";
    private readonly DirectoryInfo _root;
    private Process? _process;

    private RedisServer(DirectoryInfo root, int port)
    {
        _root = root;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,connectRetry=1";

    public static async Task<RedisServer> StartAsync(bool readOnlyReplica = false)
    {
        var binary = File.Exists(Binary) ? Binary : throw new InvalidOperationException(
            $"redis-server not found at {Binary}. These tests need a real Redis: apt-get install -y redis-server");
        var server = new RedisServer(Directory.CreateTempSubdirectory("healthproxy-redis-"), FreePort.Next());
        var start = new ProcessStartInfo(binary) { UseShellExecute = false };
        string[] arguments =
        [
            "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", string.Empty, "--appendonly", "no", "--dir", server._root.FullName,
            "--logfile", Path.Combine(server._root.FullName, "redis.log"), "--daemonize", "no",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (readOnlyReplica)
        {
            // A replica of a primary that is not there: it answers, but refuses every write.
            foreach (var argument in new[] { "--replicaof", "127.0.0.1", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), "--replica-read-only", "yes" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        server._process = Process.Start(start);
        await Eventually.HoldsAsync(server.AnswersPingAsync, $"redis-server on port {server.Port} answers PING");
        return server;
    }

    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    /// <summary>Sends one command on a fresh raw connection and returns the first line of the reply.</summary>
    public async Task<string> SendAsync(params string[] command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(command.Length).Append("\r\n");
        foreach (var part in command)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        var buffer = new byte[512];
        var read = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, read).Split("\r\n")[0];
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        _root.Delete(recursive: true);
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            return await SendAsync("PING") == "+PONG";
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
