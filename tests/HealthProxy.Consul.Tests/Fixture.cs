namespace HealthProxy.Consul.Tests;

/// <summary>Reads the copied doc-sample fixtures.</summary>
internal static class Fixture
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));
}
