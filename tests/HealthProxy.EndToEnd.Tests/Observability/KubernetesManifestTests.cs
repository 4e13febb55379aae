using System.Globalization;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>The Kubernetes manifests parse, fit together, and their probes answer on a running gateway.</summary>
[Collection(SerialObservability.Name)]
public sealed class KubernetesManifestTests
{
    [Fact]
    public void Manifests_Parse_DeploymentServiceAndConfigMapFitTogether()
    {
        var documents = LoadAll();
        var deployment = Single(documents, "Deployment");
        var container = Container(deployment);
        var ports = ContainerPorts(container);

        Assert.Equal(["ConfigMap", "Deployment", "Service", "Service"], documents.Select(d => Scalar(d, "kind")).Order());
        foreach (var service in documents.Where(d => Scalar(d, "kind") == "Service"))
        {
            foreach (YamlMappingNode port in (YamlSequenceNode)Path(service, "spec", "ports"))
            {
                Assert.Contains(Scalar(port, "targetPort"), ports.Keys);
            }
        }

        var configMap = Single(documents, "ConfigMap");
        using var appsettings = JsonDocument.Parse(Scalar(Path(configMap, "data"), "appsettings.json"));
        Assert.True(appsettings.RootElement.TryGetProperty("ReverseProxy", out _));
        var env = ((YamlSequenceNode)Path(container, "env")).Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));
        Assert.Equal(ports["http"].ToString(CultureInfo.InvariantCulture), env["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal(ports["metrics"].ToString(CultureInfo.InvariantCulture), env["HealthProxy__Metrics__Port"]);

        // What the image bakes in, the pod sets too (an image built elsewhere may lack it), the same.
        var image = ImageEnvironment(File.ReadAllLines(Tooling.RepoPath("Dockerfile")));
        Assert.Equal("1", image["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
        Assert.All(image, setting => Assert.Equal(setting.Value, env.GetValueOrDefault(setting.Key)));
        Assert.Equal("true", Scalar(Path(deployment, "spec", "template", "spec", "securityContext"), "runAsNonRoot"));
        Assert.Equal("false", Scalar(Path(container, "securityContext"), "allowPrivilegeEscalation"));
        var startup = (YamlMappingNode)Path(container, "startupProbe");
        Assert.True(int.Parse(Scalar(startup, "failureThreshold"), CultureInfo.InvariantCulture) * int.Parse(Scalar(startup, "periodSeconds"), CultureInfo.InvariantCulture) >= 300);
    }

    [Fact]
    public void ConfigMap_MountedAsADirectoryWithoutSubPath_AndNamedByHealthProxyConfigFile()
    {
        var documents = LoadAll();
        var deployment = Single(documents, "Deployment");
        var container = Container(deployment);
        var env = ((YamlSequenceNode)Path(container, "env")).Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));
        var volume = ((YamlSequenceNode)Path(deployment, "spec", "template", "spec", "volumes")).Cast<YamlMappingNode>()
            .Single(v => v.Children.ContainsKey(new YamlScalarNode("configMap")));
        var mount = ((YamlSequenceNode)Path(container, "volumeMounts")).Cast<YamlMappingNode>().Single(m => Scalar(m, "name") == Scalar(volume, "name"));

        // A subPath mount is never refreshed by the kubelet; a directory mount is, by swapping its ..data link.
        Assert.False(mount.Children.ContainsKey(new YamlScalarNode("subPath")), "the ConfigMap is mounted with subPath, so its updates never reach the pod");
        Assert.Equal(Scalar(Path(Single(documents, "ConfigMap"), "metadata"), "name"), Scalar(Path(volume, "configMap"), "name"));
        var file = env["HealthProxy__ConfigFile"];
        Assert.Equal(Scalar(mount, "mountPath").TrimEnd('/') + "/appsettings.json", file);
        Assert.Contains("appsettings.json", ((YamlMappingNode)Path(Single(documents, "ConfigMap"), "data")).Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        Assert.False(Scalar(mount, "mountPath").StartsWith("/app", StringComparison.Ordinal), "a directory mounted over /app would hide the gateway itself");
    }

    [Fact]
    public async Task Probes_OnRunningGateway_AnswerOnTheirPortsAndPaths()
    {
        var container = Container(Single(LoadAll(), "Deployment"));
        var ports = ContainerPorts(container);
        using var backend = Backend.Start("a");
        var metricsPort = Tooling.FreePort();
        var settings = GatewaySettings.For([backend]);
        settings["HealthProxy:Metrics:Port"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        settings["HealthProxy:Metrics:Host"] = "127.0.0.1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        await gateway.WaitStartedAsync();
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };

        var probes = new[] { "startupProbe", "readinessProbe", "livenessProbe" };
        foreach (var probe in probes)
        {
            var httpGet = Path(container, probe, "httpGet");
            var port = Scalar(httpGet, "port");
            Assert.Equal("http", port);
            using var response = await gateway.Client.GetAsync(Scalar(httpGet, "path"));
            Assert.True(response.IsSuccessStatusCode, $"{probe} {Scalar(httpGet, "path")} answered {(int)response.StatusCode}");
        }

        Assert.Equal("/health/live", Scalar(Path(container, "livenessProbe", "httpGet"), "path"));
        Assert.Equal(9464, ports["metrics"]);
        Assert.Contains("healthproxy_instances{", await management.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    private static List<YamlMappingNode> LoadAll()
    {
        var documents = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(Tooling.RepoPath("config", "kubernetes"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => (YamlMappingNode)d.RootNode));
        }

        return documents;
    }

    /// <summary>The final stage's <c>ENV key=value</c> settings: comment lines skipped, continuation lines joined.</summary>
    private static Dictionary<string, string> ImageEnvironment(string[] dockerfile)
    {
        var instructions = new List<string>();
        var current = "";
        foreach (var line in dockerfile.Select(l => l.Trim()).Where(l => !l.StartsWith('#')))
        {
            current += line.EndsWith('\\') ? line[..^1] + " " : line;
            if (!line.EndsWith('\\'))
            {
                instructions.Add(current);
                current = "";
            }
        }

        var finalStage = instructions.Skip(instructions.FindLastIndex(i => i.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase)));
        return finalStage
            .Where(i => i.StartsWith("ENV ", StringComparison.OrdinalIgnoreCase))
            .SelectMany(i => i[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Trim('"'));
    }

    private static YamlMappingNode Single(List<YamlMappingNode> documents, string kind) => documents.Single(d => Scalar(d, "kind") == kind);

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        (YamlMappingNode)((YamlSequenceNode)Path(deployment, "spec", "template", "spec", "containers")).Children.Single();

    private static Dictionary<string, int> ContainerPorts(YamlMappingNode container) =>
        ((YamlSequenceNode)Path(container, "ports")).Cast<YamlMappingNode>()
            .ToDictionary(p => Scalar(p, "name"), p => int.Parse(Scalar(p, "containerPort"), CultureInfo.InvariantCulture));

    private static YamlNode Path(YamlNode node, params string[] keys)
    {
        foreach (var key in keys)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)Path(node, key)).Value!;
}
