namespace HealthProxy.Testing.Gateway;

/// <summary>Builds gateway configuration in YARP's own schema, as flat keys.</summary>
public static class GatewaySettings
{
    public const string Cluster = "svc";

    /// <summary>One catch-all route to one round-robin cluster of <paramref name="backends"/>, probed every <paramref name="interval"/>.</summary>
    public static Dictionary<string, string?> For(IEnumerable<Backend> backends, TimeSpan? interval = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = Cluster,
            ["ReverseProxy:Routes:all:Match:Path"] = "/{**rest}",
            ["ReverseProxy:Routes:search:ClusterId"] = Cluster,
            ["ReverseProxy:Routes:search:Order"] = "-1",
            ["ReverseProxy:Routes:search:Match:Path"] = "/search",
            ["ReverseProxy:Routes:search:Match:Methods:0"] = "POST",
            ["ReverseProxy:Routes:search:Metadata:HealthProxy.RequestKind"] = "Read",
            [$"ReverseProxy:Clusters:{Cluster}:LoadBalancingPolicy"] = "RoundRobin",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Enabled"] = "true",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Interval"] = (interval ?? TimeSpan.FromMilliseconds(200)).ToString(),
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Timeout"] = "00:00:01",
            [$"ReverseProxy:Clusters:{Cluster}:HealthCheck:Active:Path"] = Backend.HealthPath,
            ["HealthProxy:Probes:UnhealthyThreshold"] = "2",
        };
        foreach (var backend in backends)
        {
            settings[$"ReverseProxy:Clusters:{Cluster}:Destinations:{backend.Name}:Address"] = backend.Url;
        }

        return settings;
    }
}
