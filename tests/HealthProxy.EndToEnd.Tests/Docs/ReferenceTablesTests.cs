using System.Reflection;
using System.Text.RegularExpressions;
using HealthProxy.Consul;
using HealthProxy.EndToEnd.Tests.Observability;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Views;

namespace HealthProxy.EndToEnd.Tests.Docs;

/// <summary>
/// The reference tables under docs/ against the code they describe: every configuration key the gateway reads has a
/// row in docs/configuration.md (and every row names a key that exists), and every log event id has a row in
/// docs/troubleshooting.md.
/// </summary>
public sealed partial class ReferenceTablesTests
{
    private static readonly (string Section, Type Options)[] Sections =
    [
        (ProbeOptions.SectionName, typeof(ProbeOptions)),
        (ConsulClientOptions.SectionName, typeof(ConsulClientOptions)),
        (DiscoveryOptions.SectionName, typeof(DiscoveryOptions)),
        (OutlierDetectionOptions.SectionName, typeof(OutlierDetectionOptions)),
        (RetryOptions.SectionName, typeof(RetryOptions)),
        (MetricsOptions.SectionName, typeof(MetricsOptions)),
        (HealthSecurityOptions.SectionName, typeof(HealthSecurityOptions)),
        (GrpcHealthOptions.SectionName, typeof(GrpcHealthOptions)),
        (H2cOptions.SectionName, typeof(H2cOptions)),
        (ShutdownOptions.SectionName, typeof(ShutdownOptions)),
    ];

    [Fact]
    public void ConfigurationTable_EveryGatewayKey_HasARow()
    {
        var documented = DocumentedKeys();
        var keys = Sections
            .SelectMany(s => s.Options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => $"{s.Section}:{p.Name}"))
            .Append(ConfigFiles.ConfigFileKey)
            .Append(TracingHostingExtensions.BackgroundCallsKey);

        Assert.All(keys, key => Assert.Contains(key, documented));
    }

    [Fact]
    public void ConfigurationTable_EveryMetadataKey_HasARow()
    {
        var documented = DocumentedKeys();
        var keys = Constants(typeof(HealthProxyMetadata))
            .Concat(Constants(typeof(ConsulMetadata)))
            .Concat(Constants(typeof(RouteResilience)).Where(k => k.StartsWith("HealthProxy.", StringComparison.Ordinal)))
            .Append(OutlierDetectionOptions.MetadataPrefix + "<key>");

        Assert.All(keys, key => Assert.Contains(key, documented));
    }

    [Fact]
    public void ConfigurationTable_EveryGatewayWideRow_NamesAKeyThatExists()
    {
        var known = Sections
            .SelectMany(s => s.Options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => $"{s.Section}:{p.Name}"))
            .Append(ConfigFiles.ConfigFileKey)
            .Append(TracingHostingExtensions.BackgroundCallsKey)
            .ToHashSet(StringComparer.Ordinal);

        Assert.All(DocumentedKeys().Where(k => k.StartsWith("HealthProxy:", StringComparison.Ordinal)), key => Assert.Contains(key, known));
    }

    [Fact]
    public void TroubleshootingTable_EveryEventId_HasARow()
    {
        var page = File.ReadAllText(Tooling.RepoPath("docs", "troubleshooting.md"));
        var rows = TableRow().Matches(page).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var ids = Constants<int>(typeof(GatewayEventIds))
            .Concat(Constants<int>(typeof(ConsulClientOptions).Assembly.GetType("HealthProxy.Consul.ConsulEventIds", throwOnError: true)!));

        Assert.All(ids, id => Assert.Contains(id, rows));
    }

    /// <summary>The first cell of every row of the configuration page's tables, without its backticks.</summary>
    private static HashSet<string> DocumentedKeys()
    {
        var page = File.ReadAllText(Tooling.RepoPath("docs", "configuration.md"));
        return KeyCell().Matches(page).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    private static IEnumerable<string> Constants(Type type) => Constants<string>(type);

    private static IEnumerable<T> Constants<T>(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(T))
            .Select(f => (T)f.GetRawConstantValue()!);

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex KeyCell();

    [GeneratedRegex(@"^\| (\d{4}) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
