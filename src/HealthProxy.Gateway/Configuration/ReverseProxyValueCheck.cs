using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// Checks that YARP's typed route and cluster values parse, before YARP reads them: YARP's own parse error
/// ("String 'x' was not recognized as a valid TimeSpan") does not say which key held the value.
/// </summary>
internal static class ReverseProxyValueCheck
{
    private enum Kind
    {
        TimeSpan,
        Bool,
        Int,
    }

    // The typed keys of YARP's RouteConfig and ClusterConfig, relative to a route or a cluster.
    private static readonly (string Key, Kind Kind)[] ClusterKeys =
    [
        ("HealthCheck:Active:Enabled", Kind.Bool),
        ("HealthCheck:Active:Interval", Kind.TimeSpan),
        ("HealthCheck:Active:Timeout", Kind.TimeSpan),
        ("HealthCheck:Passive:Enabled", Kind.Bool),
        ("HealthCheck:Passive:ReactivationPeriod", Kind.TimeSpan),
        ("SessionAffinity:Enabled", Kind.Bool),
        ("HttpClient:MaxConnectionsPerServer", Kind.Int),
        ("HttpClient:DangerousAcceptAnyServerCertificate", Kind.Bool),
        ("HttpClient:EnableMultipleHttp2Connections", Kind.Bool),
        ("HttpRequest:ActivityTimeout", Kind.TimeSpan),
        ("HttpRequest:AllowResponseBuffering", Kind.Bool),
    ];

    private static readonly (string Key, Kind Kind)[] RouteKeys =
    [
        ("Order", Kind.Int),
        ("Timeout", Kind.TimeSpan),
    ];

    /// <summary>Every typed value under <paramref name="reverseProxy"/> that does not parse, each naming its key.</summary>
    public static List<string> Problems(IConfigurationSection reverseProxy)
    {
        var problems = new List<string>();
        Check(reverseProxy.GetSection("Clusters"), ClusterKeys, problems);
        Check(reverseProxy.GetSection("Routes"), RouteKeys, problems);
        return problems;
    }

    private static void Check(IConfigurationSection parent, (string Key, Kind Kind)[] keys, List<string> problems)
    {
        foreach (var item in parent.GetChildren())
        {
            foreach (var (key, kind) in keys)
            {
                var section = item.GetSection(key);
                if (section.Value is not { } value || Parses(value, kind))
                {
                    continue;
                }

                var expected = kind switch
                {
                    Kind.TimeSpan => "a time span like 00:00:10",
                    Kind.Bool => "true or false",
                    _ => "an integer",
                };
                problems.Add($"{section.Path} must be {expected} (got '{value}').");
            }
        }
    }

    // Exactly as YARP parses them (its ConfigurationReadingExtensions): the constant ("c") TimeSpan format,
    // which rejects "24:00:00" that TimeSpan.Parse reads as 24 days, and an empty string is a value, a bad one.
    private static bool Parses(string value, Kind kind)
    {
        try
        {
            _ = kind switch
            {
                Kind.TimeSpan => (object)TimeSpan.ParseExact(value, "c", CultureInfo.InvariantCulture),
                Kind.Bool => bool.Parse(value),
                _ => int.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            };
            return true;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            return false;
        }
    }
}
