using System.Text.Json;
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

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static void Write(string file, params string[] addresses)
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

        // Write then move, so the watcher never reads a half-written file.
        var temp = file + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config));
        File.Move(temp, file, overwrite: true);
    }
}
