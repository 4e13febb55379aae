using System.Text;
using HealthProxy.Health;
using HealthProxy.Reporting.Publishing;

namespace HealthProxy.Reporting.Tests.Publishing;

public sealed class CheckOutputTests
{
    [Fact]
    public void Write_SmallDocument_IsTheStatusDocumentJson()
    {
        var document = Document(3);

        Assert.Equal(StatusDocumentJson.Write(document), CheckOutput.Write(document));
    }

    [Fact]
    public void Write_TooManyDependencies_FitsAndKeepsTheWorstFirst()
    {
        var document = Document(500) with { Status = HealthState.Unhealthy };
        var dependencies = new Dictionary<string, DependencyStatus>(document.Dependencies, StringComparer.Ordinal)
        {
            ["zz-database"] = new(HealthState.Unhealthy, Critical: true),
            ["zz-cache"] = new(HealthState.Unhealthy, Critical: false),
        };
        document = document with { Dependencies = dependencies };

        var output = CheckOutput.Write(document);

        Assert.InRange(Encoding.UTF8.GetByteCount(output), CheckOutput.MaxBytes - 200, CheckOutput.MaxBytes);
        Assert.True(StatusDocumentJson.TryParse(Encoding.UTF8.GetBytes(output), out var parsed));
        Assert.Equal((HealthState.Unhealthy, "orders", HealthState.Healthy), (parsed!.Status, parsed.Service, parsed.Own));
        Assert.True(parsed.Dependencies["zz-database"].Critical);
        Assert.Equal(HealthState.Unhealthy, parsed.Dependencies["zz-cache"].Status);
    }

    [Fact]
    public void Write_MultiByteNames_CountsBytesNotCharacters()
    {
        var document = Document(200, name: i => $"依存関係-{i:D3}-データベース");

        var output = CheckOutput.Write(document);

        Assert.InRange(Encoding.UTF8.GetByteCount(output), 1, CheckOutput.MaxBytes);
        Assert.True(StatusDocumentJson.TryParse(Encoding.UTF8.GetBytes(output), out _));
    }

    [Fact]
    public void Write_EvenTheBareDocumentTooLong_OnlyTheStatus()
    {
        var document = Document(2) with { Service = new string('s', 5000), Status = HealthState.Degraded };

        Assert.Equal("""{"status":"degraded"}""", CheckOutput.Write(document));
    }

    private static StatusDocument Document(int dependencies, Func<int, string>? name = null) => new()
    {
        Status = HealthState.Healthy,
        Service = "orders",
        Own = HealthState.Healthy,
        Dependencies = Enumerable.Range(0, dependencies).ToDictionary(
            i => name?.Invoke(i) ?? $"dependency-with-a-rather-long-name-{i:D3}",
            _ => new DependencyStatus(HealthState.Healthy, Critical: false),
            StringComparer.Ordinal),
    };
}
