using HealthProxy.Gateway.Configuration;
using HealthProxy.Testing;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Tests.Configuration;

public sealed class WatchedJsonFileProviderTests : IDisposable
{
    private const string Routed = """{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/x"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://a"}}}}}}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("healthproxy-watched-").FullName;

    [Fact]
    public void Load_InvalidJson_NamesTheFileLineAndByte()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(file, "{\n  \"a\": 1,\n  \"b\" 2\n}");

        var problem = Assert.Throws<GatewayConfigurationException>(() => Build(file, new ConfigFileStatus()));

        Assert.Contains(file, problem.Message, StringComparison.Ordinal);
        Assert.Contains("line 3, byte 7", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_EmptiedThenFixed_KeepsTheLastGoodUntilValid()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(file, Routed);
        var status = new ConfigFileStatus();
        var configuration = Build(file, status);

        File.WriteAllText(file, "{}");
        await Eventually.HoldsAsync(() => status.Stale, "the emptying edit is refused");
        Assert.Equal("http://a", configuration["ReverseProxy:Clusters:c:Destinations:d:Address"]);

        File.WriteAllText(file, Routed.Replace("http://a", "http://b", StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => configuration["ReverseProxy:Clusters:c:Destinations:d:Address"] == "http://b", "the valid edit applies");
        Assert.False(status.Stale);
    }

    [Fact]
    public async Task Reload_BadTimeSpan_RefusedNamingTheKey()
    {
        var file = Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(file, Routed);
        var status = new ConfigFileStatus();
        var configuration = Build(file, status);

        File.WriteAllText(file, Routed.Replace("\"Match\"", "\"Timeout\":\"later\",\"Match\"", StringComparison.Ordinal));
        await Eventually.HoldsAsync(() => status.Stale, "the edit is refused");

        Assert.Contains("ReverseProxy:Routes:r:Timeout", status.Problems[file], StringComparison.Ordinal);
        Assert.Null(configuration["ReverseProxy:Routes:r:Timeout"]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static IConfigurationRoot Build(string file, ConfigFileStatus status) =>
        new ConfigurationBuilder().Add(new WatchedJsonFileSource(file, optional: false, status)).Build();
}
