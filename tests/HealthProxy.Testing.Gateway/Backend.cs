using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace HealthProxy.Testing.Gateway;

/// <summary>
/// One backend instance played by WireMock.Net on a real loopback socket: it answers its health path
/// with whatever the test sets, and everything else with its name in <c>X-Served-By</c>.
/// </summary>
public sealed class Backend : IDisposable
{
    public const string HealthPath = "/health";

    private static readonly Guid HealthMapping = Guid.NewGuid();

    private Backend(string name, WireMockServer server)
    {
        Name = name;
        Server = server;
    }

    public string Name { get; }

    public WireMockServer Server { get; }

    public string Url => Server.Urls[0];

    public static Backend Start(string name, int healthStatus = 200, string healthBody = "{\"status\":\"healthy\"}")
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"], StartAdminInterface = false });
        var backend = new Backend(name, server);
        server.Given(Request.Create().UsingAnyMethod())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("X-Served-By", name).WithBody(name));
        backend.SetHealth(healthStatus, healthBody);
        return backend;
    }

    /// <summary>What the health path answers from now on.</summary>
    public void SetHealth(int status, string body, TimeSpan? delay = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        if (delay is { } d)
        {
            response = response.WithDelay(d);
        }

        Server.Given(Request.Create().WithPath(HealthPath).UsingGet())
            .WithGuid(HealthMapping)
            .AtPriority(1)
            .RespondWith(response);
    }

    /// <summary>The state this instance reports, in the status document form.</summary>
    public void SetState(string state, int status = 200) => SetHealth(status, $"{{\"status\":\"{state}\"}}");

    /// <summary>Proxied (non-probe) requests this backend received with <paramref name="method"/>.</summary>
    public int Received(string method) =>
        Server.LogEntries.Count(e => e.RequestMessage.Path != HealthPath && string.Equals(e.RequestMessage.Method, method, StringComparison.OrdinalIgnoreCase));

    public int ProbesReceived => Server.LogEntries.Count(e => e.RequestMessage.Path == HealthPath);

    public void ResetCounts() => Server.ResetLogEntries();

    public void Dispose() => Server.Stop();
}
