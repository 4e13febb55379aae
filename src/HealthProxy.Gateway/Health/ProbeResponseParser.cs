using System.Text;
using HealthProxy.Consul;
using HealthProxy.Consul.Discovery;
using HealthProxy.Health;

namespace HealthProxy.Gateway.Health;

/// <summary>Turns a probe's status code and (capped) body into a state.</summary>
/// <remarks>
/// In order: a JSON object with a known <c>status</c> decides, whatever the status code (a service
/// answers 503 <c>{"status":"starting"}</c> while it starts); then ASP.NET Core's plain-text
/// <c>Healthy</c>/<c>Degraded</c>/<c>Unhealthy</c>; then the code alone, by Consul's HTTP check rule
/// (<see cref="ConsulHttpCheckRule"/>): 2xx is healthy, 429 degraded, anything else unhealthy.
/// </remarks>
internal static class ProbeResponseParser
{
    /// <summary>Classifies one probe response. <paramref name="body"/> is empty when it was too large to read.</summary>
    public static HealthState Parse(int statusCode, ReadOnlySpan<byte> body) => Parse(statusCode, body, out _);

    /// <summary>
    /// Classifies one probe response; <paramref name="declared"/> says whether the instance stated its state
    /// (a status document or ASP.NET Core's plain text) rather than the status code implying it.
    /// </summary>
    public static HealthState Parse(int statusCode, ReadOnlySpan<byte> body, out bool declared)
    {
        declared = true;
        var trimmed = body.Trim(" \t\r\n"u8);
        if (!trimmed.IsEmpty)
        {
            if (trimmed[0] == (byte)'{')
            {
                if (StatusDocumentJson.TryParse(trimmed, out var document))
                {
                    return document!.Status;
                }
            }
            else if (trimmed.Length <= 16 && TryParsePlainText(trimmed, out var plain))
            {
                return plain;
            }
        }

        declared = false;
        return ConsulInstanceMapper.StateOf(ConsulHttpCheckRule.StatusFor(statusCode));
    }

    private static bool TryParsePlainText(ReadOnlySpan<byte> body, out HealthState state)
    {
        // ASP.NET Core's default writer: exactly the HealthStatus name.
        Span<char> chars = stackalloc char[16];
        var count = Encoding.ASCII.GetChars(body, chars);
        var text = chars[..count];
        state = text.Equals("Healthy", StringComparison.OrdinalIgnoreCase) ? HealthState.Healthy
            : text.Equals("Degraded", StringComparison.OrdinalIgnoreCase) ? HealthState.Degraded
            : text.Equals("Unhealthy", StringComparison.OrdinalIgnoreCase) ? HealthState.Unhealthy
            : (HealthState)(-1);
        return Enum.IsDefined(state);
    }
}
