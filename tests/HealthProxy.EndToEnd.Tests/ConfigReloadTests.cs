using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>Edits to the routes and clusters file apply without a restart; a bad edit loses nothing.</summary>
public sealed class ConfigReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("healthproxy-reload-").FullName;
    private readonly Backend _a = Backend.Start("a");
    private readonly Backend _b = Backend.Start("b", 200, "{\"status\":\"degraded\"}");

    [Fact]
    public async Task EditedFile_AddedDestination_IsProbedAndRoutedWithoutRestart()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file);
        await gateway.WaitStartedAsync();
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 4), r => Assert.Equal("a", r));

        Write(file, _a.Url, _b.Url);

        // b arrives degraded: it is probed at once and takes reads, never writes.
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "reads reached the added destination");
        Assert.All(await gateway.SendAsync(HttpMethod.Post, "/orders", 6), r => Assert.Equal("a", r));
    }

    [Fact]
    public async Task EditedFile_InvalidEdit_KeepsServingTheLastGoodConfig()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file);
        await gateway.WaitStartedAsync();

        Write(file, "not an address");
        var probesBefore = _a.ProbesReceived;
        await Eventually.HoldsAsync(() => _a.ProbesReceived > probesBefore + 2, "the gateway kept probing a after the bad edit");

        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 4), r => Assert.Equal("a", r));

        // A good edit after the bad one applies again.
        Write(file, _a.Url, _b.Url);
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the next good edit applied");
    }

    [Fact]
    public async Task DeletedFile_LastGoodConfigKeepsServing_ReadinessSaysStale_UntilItIsBack()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        File.Delete(file);
        await Eventually.HoldsAsync(async () => (await ReadyBodyAsync(gateway)).Contains("\"config\":\"stale\"", StringComparison.Ordinal), "readiness says the config is stale");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 6), r => Assert.Equal("a", r));
        using (var ready = await gateway.Client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        Assert.True(logs.Has(1800, file, "missing"), "the refusal is logged naming the file");

        Write(file, _a.Url, _b.Url);
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the rewritten file applied");
        Assert.DoesNotContain("stale", await ReadyBodyAsync(gateway), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedThenHalfWrittenFile_KeepsServingUntilAValidFileArrives()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        var whole = Json(_a.Url, _b.Url);
        File.Delete(file);
        await File.WriteAllTextAsync(file, whole[..(whole.Length / 2)]);
        await Eventually.HoldsAsync(() => logs.Has(1800, file, "not valid JSON at line 1, byte"), "the half-written file is refused naming line and byte");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 6), r => Assert.Equal("a", r));
        Assert.Contains("stale", await ReadyBodyAsync(gateway), StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, whole);
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the completed file applied");
    }

    [Fact]
    public async Task FileReplacedByEmptyObject_RefusedAndLogged_RoutesKeepServing()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        await File.WriteAllTextAsync(file, "{}");
        await Eventually.HoldsAsync(() => logs.Has(1800, file, "every route and cluster"), "the emptying edit is refused and logged");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 6), r => Assert.Equal("a", r));
    }

    [Fact]
    public async Task BadTimeSpanEdit_LoggedWithItsKey_NoSpuriousClusterError()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        await File.WriteAllTextAsync(file, Json(_a.Url).Replace("00:00:00.200", "soon", StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => logs.Has(1800, "ReverseProxy:Clusters:svc:HealthCheck:Active:Interval", "soon"), "the bad value is logged with its key");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 4), r => Assert.Equal("a", r));

        Write(file, "not an address");
        await Eventually.HoldsAsync(() => logs.Entries.Any(e => Text(e).Contains("Destinations:a:Address", StringComparison.Ordinal)), "the bad address is logged with its key");
        Assert.DoesNotContain(logs.Entries, e => Text(e).Contains("which is not configured", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadHedgeDelayEdit_LoggedWithItsKey_LastGoodConfigKeepsServing()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, _a.Url);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        // The edit adds b too: refused whole, so b takes no traffic.
        var edit = Json(_a.Url, _b.Url).Replace("\"Match\":", "\"Metadata\":{\"HealthProxy.HedgeDelay\":\"soon\"},\"Match\":", StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, edit);
        await Eventually.HoldsAsync(
            () => logs.Entries.Any(e => Text(e).Contains("ReverseProxy:Routes:all:Metadata:HealthProxy.HedgeDelay", StringComparison.Ordinal) && Text(e).Contains("soon", StringComparison.Ordinal)),
            "the bad hedge delay is logged with its key");

        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 6), r => Assert.Equal("a", r));
    }

    [Fact]
    public async Task ConfigMapVolume_SymlinkSwap_ReloadsLiveWithNoFailedRequest()
    {
        // A ConfigMap volume as the kubelet lays it out: a timestamped directory, ..data pointing at it, and the
        // file a link through ..data; an update writes a new directory and renames a new ..data link over the old.
        var mount = Directory.CreateDirectory(Path.Combine(_directory, "config")).FullName;
        var first = Directory.CreateDirectory(Path.Combine(mount, "..2026_12_02_13_00_00.000000001")).FullName;
        await File.WriteAllTextAsync(Path.Combine(first, "appsettings.json"), Json(_a.Url));
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), Path.GetFileName(first));
        File.CreateSymbolicLink(Path.Combine(mount, "appsettings.json"), Path.Combine("..data", "appsettings.json"));
        var settings = new Dictionary<string, string?> { ["HealthProxy:ConfigFile"] = Path.Combine(mount, "appsettings.json") };
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 4), r => Assert.Equal("a", r));

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var sent = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var answer = (await gateway.SendAsync(HttpMethod.Get, "/items", 1))[0];
                sent++;
                if (answer is not ("a" or "b"))
                {
                    failures.Add(answer);
                }
            }
        });

        var second = Directory.CreateDirectory(Path.Combine(mount, "..2026_12_02_13_05_00.000000002")).FullName;
        await File.WriteAllTextAsync(Path.Combine(second, "appsettings.json"), Json(_a.Url, _b.Url));
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), Path.GetFileName(second));
        Assert.Equal(0, Rename(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data")));
        Directory.Delete(first, recursive: true);

        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the swapped ConfigMap applied");
        await stop.CancelAsync();
        await load;
        Assert.True(sent > 0);
        Assert.Empty(failures);
    }

    private static string Text(CapturedLogs.Entry entry) => entry.Message + " " + entry.Exception;

    private static async Task<string> ReadyBodyAsync(GatewayHost gateway)
    {
        using var response = await gateway.Client.GetAsync("/health/ready");
        return await response.Content.ReadAsStringAsync();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
#pragma warning disable CA2101, SYSLIB1054 // A test's rename(2), as the kubelet swaps ..data.
    private static extern int Rename(string from, string to);
#pragma warning restore CA2101, SYSLIB1054

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static void Write(string file, params string[] addresses)
    {
        // Write then move, so the watcher never reads a half-written file.
        var temp = file + ".tmp";
        File.WriteAllText(temp, Json(addresses));
        File.Move(temp, file, overwrite: true);
    }

    private static string Json(params string[] addresses)
    {
        var destinations = addresses.Select((address, i) => (Id: ((char)('a' + i)).ToString(), address))
            .ToDictionary(d => d.Id, d => new { Address = d.address });
        var config = new
        {
            ReverseProxy = new
            {
                Routes = new { all = new { ClusterId = "svc", Match = new { Path = "/{**rest}" } } },
                Clusters = new
                {
                    svc = new
                    {
                        LoadBalancingPolicy = "RoundRobin",
                        HealthCheck = new { Active = new { Enabled = true, Interval = "00:00:00.200", Timeout = "00:00:01", Path = Backend.HealthPath } },
                        Destinations = destinations,
                    },
                },
            },
        };

        return JsonSerializer.Serialize(config);
    }
}
