using Npgsql;

namespace HealthProxy.Reporting.Tests.Servers;

/// <summary>
/// A throw-away PostgreSQL cluster: initdb in a temp directory, listening on 127.0.0.1 at a free port and on a
/// unix socket in that directory. As root (CI), the tools run as the <c>postgres</c> OS user, since initdb
/// refuses root.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private const string OsUser = "postgres";
    private readonly string _bin;
    private readonly DirectoryInfo _root;

    private PostgresServer(string bin, DirectoryInfo root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=5";

    private string DataDirectory => Path.Combine(_root.FullName, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinDirectory();
        var root = Directory.CreateTempSubdirectory("healthproxy-pg-");
        Directory.CreateDirectory(Path.Combine(root.FullName, "sockets"));
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", root.FullName]);
        }

        var server = new PostgresServer(bin, root, FreePort.Next());
        try
        {
            await ProcessRunner.RunAsync(
                Path.Combine(bin, "initdb"),
                ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                OsUser);
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public Task StartAgainAsync() => ProcessRunner.RunAsync(
        Path.Combine(_bin, "pg_ctl"),
        [
            "-D", DataDirectory, "-l", Path.Combine(_root.FullName, "postgres.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {Path.Combine(_root.FullName, "sockets")} -c fsync=off",
            "start",
        ],
        OsUser);

    public Task StopAsync() => ProcessRunner.RunAsync(
        Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"], OsUser);

    /// <summary>Freezes the postmaster (SIGSTOP): connections are accepted by the kernel but never answered.</summary>
    public Task FreezeAsync() => SignalPostmasterAsync("-STOP");

    /// <summary>Thaws the postmaster (SIGCONT).</summary>
    public Task ThawAsync() => SignalPostmasterAsync("-CONT");

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await StopAsync();
            }
        }
        finally
        {
            _root.Delete(recursive: true);
        }
    }

    private async Task SignalPostmasterAsync(string signal)
    {
        var pid = (await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "postmaster.pid")))[0].Trim();
        await ProcessRunner.RunAsync("kill", [signal, pid]);
    }

    private static string FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        var bin = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(version => Path.Combine(version, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found (no initdb/pg_ctl under /usr/lib/postgresql/*/bin). " +
            "These tests need a real PostgreSQL: apt-get install -y postgresql");
    }
}
