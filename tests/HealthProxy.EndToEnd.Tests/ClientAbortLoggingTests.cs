using System.Net;
using System.Net.Sockets;
using System.Text;
using HealthProxy.Gateway.State;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.EndToEnd.Tests;

/// <summary>What the gateway logs when a client gives up on its own upload: one clear line, not a stack trace.</summary>
public sealed class ClientAbortLoggingTests
{
    private const int ClientAbandonedRequest = 1321;

    [Fact]
    public async Task ClientAbortsItsUpload_LogsNoWarningAndNoStackTrace_InstanceUntouched()
    {
        await using var a = await FaultyBackend.StartAsync("a");
        var logs = new CapturingLoggerProvider();
        var settings = ResilienceSettings.For([], 2, "00:00:30", true, ("a", a.Url));
        settings["HealthProxy:OutlierDetection:MaxEjectionPercent"] = "100";
        await using var gateway = await GatewayHost.StartAsync(settings, configure: b => b.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await gateway.WaitStartedAsync();

        for (var i = 0; i < 3; i++)
        {
            await AbortUploadAsync(gateway.Client.BaseAddress!, a);
        }

        await Eventually.HoldsAsync(() => logs.Entries.Count(e => e.EventId.Id == ClientAbandonedRequest) == 3, "each abort was logged once");
        var loud = logs.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Level} {e.Category} {e.EventId}: {e.Message}").ToList();
        Assert.True(loud.Count == 0, string.Join(Environment.NewLine, loud));
        Assert.All(logs.Entries.Where(e => e.EventId.Id == ClientAbandonedRequest), e => Assert.True(e.Exception is null && e.Length < 300, e.Message));
        Assert.Null(gateway.App.Services.GetRequiredService<InstanceHealthStore>().Get(GatewaySettings.Cluster, "a")!.State);
    }

    private static async Task AbortUploadAsync(Uri gateway, FaultyBackend backend)
    {
        var before = backend.ReceivedAll();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, gateway.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"PUT /upload HTTP/1.1\r\nHost: {gateway.Authority}\r\nContent-Length: {4 * 1024 * 1024}\r\n\r\n"), SocketFlags.None);
        await socket.SendAsync(new byte[256 * 1024], SocketFlags.None);

        // The body is on its way to the instance before the client vanishes.
        await Eventually.HoldsAsync(() => backend.ReceivedAll() > before, "the upload reached the instance");
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }
}
