using System.Net;
using System.Text.Json;
using HealthProxy.Testing;
using Microsoft.Extensions.Logging;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>HealthProxy:* edits while running: the token and allowlist apply at once, bad values are refused by key, the rest say "restart".</summary>
public sealed class LiveSettingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("healthproxy-live-").FullName;
    private readonly Backend _a = Backend.Start("a");

    [Fact]
    public async Task RotatedToken_OldRefusedNewAcceptedAtOnce()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, new { DetailedToken = "leaked-token" });
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();
        Assert.Equal(HttpStatusCode.OK, await DetailedAsync(gateway, "leaked-token"));

        Write(file, new { DetailedToken = "fresh-token" });
        await Eventually.HoldsAsync(async () => await DetailedAsync(gateway, "leaked-token") == HttpStatusCode.Unauthorized, "the leaked token stopped working");
        Assert.Equal(HttpStatusCode.OK, await DetailedAsync(gateway, "fresh-token"));
        Assert.True(logs.Has(1802, "HealthProxy:Security:DetailedToken"));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("fresh-token", StringComparison.Ordinal) || e.Message.Contains("leaked-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AllowlistEdit_AppliesLive_InvalidEntryRefusedByKeyAndTheLastGoodStays()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, new { AllowedNetworks = new[] { "127.0.0.0/8" } });
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health/live")).StatusCode);

        Write(file, new { AllowedNetworks = new[] { "10.0.0.0/8" } });
        await Eventually.HoldsAsync(async () => (await gateway.Client.GetAsync("/health/live")).StatusCode == HttpStatusCode.Forbidden, "the narrowed allowlist applied");

        Write(file, new { AllowedNetworks = new[] { "127.0.0.0/8", "not-a-network" } });
        await Eventually.HoldsAsync(() => logs.Has(1803, "HealthProxy:Security:AllowedNetworks:1", "not-a-network"), "the bad entry is logged by its key");
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/items")).StatusCode);
    }

    [Fact]
    public async Task RestartOnlyEdit_LoggedAsNeedingARestartNamingTheKey()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        Write(file, new { DetailedToken = "t" });
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), file, configure: b => b.Logging.AddProvider(logs));
        await gateway.WaitStartedAsync();

        Write(file, new { DetailedToken = "t" }, shutdownTimeout: "00:00:07");
        await Eventually.HoldsAsync(() => logs.Has(1804, "HealthProxy:Shutdown:Timeout", "restart"), "the restart-only key is named");

        Write(file, new { DetailedToken = "t" }, shutdownTimeout: "soon");
        await Eventually.HoldsAsync(() => logs.Has(1803, "HealthProxy:Shutdown:Timeout"), "the unparsable value is logged by its key");
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/items")).StatusCode);

        // A refused value changed nothing: it needs no restart, and the next edit is compared with the last good one.
        Write(file, new { DetailedToken = "t" }, shutdownTimeout: "00:00:09");
        await Eventually.HoldsAsync(() => logs.Has(1804, "HealthProxy:Shutdown:Timeout", "restart") && RestartLines(logs) == 2, "the next good edit needs a restart");
        Assert.Equal(2, RestartLines(logs));
    }

    private static int RestartLines(CapturedLogs logs) =>
        logs.Entries.Count(e => e.EventId == 1804 && e.Message.Contains("HealthProxy:Shutdown:Timeout", StringComparison.Ordinal));

    public void Dispose()
    {
        _a.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<HttpStatusCode> DetailedAsync(GatewayHost gateway, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/detailed");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await gateway.Client.SendAsync(request);
        return response.StatusCode;
    }

    private void Write(string file, object security, string shutdownTimeout = "00:00:05")
    {
        var config = new
        {
            HealthProxy = new { Security = security, Shutdown = new { DrainDelay = "00:00:00", Timeout = shutdownTimeout } },
            ReverseProxy = new
            {
                Routes = new { all = new { ClusterId = "svc", Match = new { Path = "/{**rest}" } } },
                Clusters = new { svc = new { Destinations = new { a = new { Address = _a.Url } } } },
            },
        };
        var temp = file + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config));
        File.Move(temp, file, overwrite: true);
    }
}
