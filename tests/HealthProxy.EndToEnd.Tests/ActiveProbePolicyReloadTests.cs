using System.Text.Json;
using HealthProxy.Testing;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>A live edit naming an active health check policy the probes do not honour is refused like any bad cluster config.</summary>
public sealed class ActiveProbePolicyReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("healthproxy-policy-").FullName;
    private readonly Backend _a = Backend.Start("a");
    private readonly Backend _b = Backend.Start("b");

    [Fact]
    public async Task EditedFile_UnknownPolicy_RefusedAndTheLastGoodConfigKeepsServing_ThenAGoodEditApplies()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, "ConsecutiveFailures", _a.Url);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file);
        await gateway.WaitStartedAsync();

        // The refused edit also adds b: b never gets a request while a keeps being probed and served.
        Write(file, "FailureRate", _a.Url, _b.Url);
        var probesBefore = _a.ProbesReceived;
        await Eventually.HoldsAsync(() => _a.ProbesReceived > probesBefore + 2, "the gateway kept probing a after the bad edit");
        Assert.All(await gateway.SendAsync(HttpMethod.Get, "/items", 6), r => Assert.Equal("a", r));
        Assert.Equal(0, _b.ProbesReceived);

        Write(file, "consecutivefailures", _a.Url, _b.Url);
        await Eventually.HoldsAsync(async () => (await gateway.SendAsync(HttpMethod.Get, "/items", 4)).Contains("b"), "the next good edit applied");
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static void Write(string file, string policy, params string[] addresses)
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
                        HealthCheck = new { Active = new { Enabled = true, Interval = "00:00:00.200", Timeout = "00:00:01", Path = Backend.HealthPath, Policy = policy } },
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
