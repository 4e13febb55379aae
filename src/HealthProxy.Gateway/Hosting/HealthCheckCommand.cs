using System.Globalization;
using HealthProxy.Gateway.Endpoints;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// <c>HealthProxy.Gateway healthcheck [port]</c>: GETs the liveness endpoint on loopback and exits 0 when it
/// answers 2xx, 1 otherwise. For a container <c>HEALTHCHECK</c> (the runtime image has no curl).
/// </summary>
public static class HealthCheckCommand
{
    /// <summary>The command-line verb.</summary>
    public const string Verb = "healthcheck";

    /// <summary>
    /// Runs the check. The port is the argument after the verb, else the first of <c>ASPNETCORE_HTTP_PORTS</c>,
    /// else 8080.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var portText = args.Length > 1
            ? args[1]
            : Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS")?.Split(';', ',')[0] ?? "8080";
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            await error.WriteLineAsync($"healthcheck: '{portText}' is not a port.").ConfigureAwait(false);
            return 1;
        }

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}{GatewayHealthEndpoints.Live}")).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await error.WriteLineAsync($"healthcheck: {GatewayHealthEndpoints.Live} answered {(int)response.StatusCode}.").ConfigureAwait(false);
            return 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"healthcheck: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
