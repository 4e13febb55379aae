namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// The manifests checked against the Kubernetes API's own schemas by a validator the project does not maintain
/// (kubernetes-models, from npm, pinned in config/tests/kubernetes/package-lock.json).
/// </summary>
[Collection(SerialObservability.Name)]
public sealed class KubernetesSchemaTests
{
    private static readonly string Validator = Tooling.RepoPath("config", "tests", "kubernetes");

    [Fact]
    public async Task Manifests_AgainstKubernetesSchemas_EveryObjectValid()
    {
        var (exitCode, output) = await ValidateAsync([]);

        Assert.True(exitCode == 0, output);
        var files = Directory.GetFiles(Tooling.RepoPath("config", "kubernetes"), "*.yaml");
        Assert.All(files, file => Assert.Contains(Path.GetFileName(file), output, StringComparison.Ordinal));
        Assert.Equal(6, output.Split('\n').Count(line => line.EndsWith(": valid", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Validator_ManifestWithWrongTypes_RejectedNamingTheFields()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"healthproxy-broken-{Guid.NewGuid():N}.yaml");
        var deployment = await File.ReadAllTextAsync(Tooling.RepoPath("config", "kubernetes", "deployment.yaml"));
        await File.WriteAllTextAsync(broken, deployment.Replace("containerPort: 8080", "containerPort: http-port", StringComparison.Ordinal));
        try
        {
            var (exitCode, output) = await ValidateAsync([broken]);

            Assert.Equal(1, exitCode);
            Assert.Contains("containers/0/ports/0/containerPort must be integer", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    private static async Task<(int ExitCode, string Output)> ValidateAsync(string[] files)
    {
        var node = Tooling.Require("node", "nodejs");
        if (!Directory.Exists(Path.Combine(Validator, "node_modules")))
        {
            var (installed, log) = await Tooling.RunAsync(
                Tooling.Require("npm", "npm"), ["ci", "--no-audit", "--no-fund"], Validator, timeout: TimeSpan.FromMinutes(5));
            Assert.True(installed == 0, "npm ci in config/tests/kubernetes failed:\n" + log);
        }

        return await Tooling.RunAsync(node, ["validate.mjs", .. files], Validator);
    }
}
