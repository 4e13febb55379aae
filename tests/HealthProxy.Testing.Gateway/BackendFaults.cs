using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace HealthProxy.Testing.Gateway;

/// <summary>Makes a <see cref="Backend"/> fail its proxied (non-health) requests, for the resilience tests.</summary>
public static class BackendFaults
{
    private static readonly Guid FaultMapping = Guid.NewGuid();

    /// <summary>Every proxied request answers <paramref name="status"/> (still with <c>X-Served-By</c>).</summary>
    public static void FailWith(this Backend backend, int status, string? method = null, TimeSpan? delay = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("X-Served-By", backend.Name).WithBody($"{backend.Name} failed");
        if (delay is { } d)
        {
            response = response.WithDelay(d);
        }

        backend.Server.Given(Request.Create().WithPath(p => p != Backend.HealthPath).UsingMethod(method ?? "GET", "POST", "PUT", "DELETE"))
            .WithGuid(FaultMapping)
            .AtPriority(10)
            .RespondWith(response);
    }

    /// <summary>Proxied requests succeed again.</summary>
    public static void Heal(this Backend backend) => backend.Server.DeleteMapping(FaultMapping);

    /// <summary>All proxied requests, any method.</summary>
    public static int ReceivedAll(this Backend backend) => backend.Server.LogEntries.Count(e => e.RequestMessage.Path != Backend.HealthPath);
}
