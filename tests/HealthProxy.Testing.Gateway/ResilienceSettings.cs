namespace HealthProxy.Testing.Gateway;

/// <summary>Gateway settings for the resilience tests: no active probes, so the breakers are the only source of state.</summary>
public static class ResilienceSettings
{
    public static Dictionary<string, string?> For(IEnumerable<Backend> backends, int consecutiveFailures = 3, string breakDuration = "00:00:30", bool retries = true, params (string Name, string Address)[] others)
    {
        var settings = GatewaySettings.For(backends);
        settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:HealthCheck:Active:Enabled"] = "false";
        settings["HealthProxy:OutlierDetection:ConsecutiveFailures"] = consecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["HealthProxy:OutlierDetection:BreakDuration"] = breakDuration;
        settings["HealthProxy:Retries:Enabled"] = retries ? "true" : "false";
        foreach (var (name, address) in others)
        {
            settings[$"ReverseProxy:Clusters:{GatewaySettings.Cluster}:Destinations:{name}:Address"] = address;
        }

        return settings;
    }

    /// <summary>An address on loopback where nothing listens: connections are refused.</summary>
    public static string RefusingAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/";
    }
}
