using System.Globalization;
using System.Text.Json;
using HealthProxy.Health;
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

        Assert.Equal(["ConfigMap", "Deployment", "Namespace", "PodDisruptionBudget", "Service", "Service"], documents.Select(d => Scalar(d, "kind")).Order());
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
    public void Manifests_OnAFreshCluster_TheNamespaceComesFirstAndTheDisruptionBudgetCoversTheGateway()
    {
        var files = Directory.GetFiles(Tooling.RepoPath("config", "kubernetes"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        var documents = LoadAll();
        var namespaceName = Scalar(Path(Single(documents, "Namespace"), "metadata"), "name");

        // kubectl apply -f <dir> applies files in name order: the Namespace must exist before anything in it.
        Assert.Equal("Namespace", Scalar(LoadFile(files[0]).Single(), "kind"));
        Assert.All(documents.Where(d => Scalar(d, "kind") != "Namespace"), d => Assert.Equal(namespaceName, Scalar(Path(d, "metadata"), "namespace")));

        var deployment = Single(documents, "Deployment");
        var podLabels = (YamlMappingNode)Path(deployment, "spec", "template", "metadata", "labels");
        var budget = Single(documents, "PodDisruptionBudget");
        foreach (var (key, value) in (YamlMappingNode)Path(budget, "spec", "selector", "matchLabels"))
        {
            Assert.Equal(((YamlScalarNode)value).Value, Scalar(podLabels, ((YamlScalarNode)key).Value!));
        }

        var replicas = int.Parse(Scalar(Path(deployment, "spec"), "replicas"), CultureInfo.InvariantCulture);
        var maxUnavailable = int.Parse(Scalar(Path(budget, "spec"), "maxUnavailable"), CultureInfo.InvariantCulture);
        Assert.True(maxUnavailable < replicas, $"a disruption may take {maxUnavailable} of {replicas} gateways");
    }

    [Fact]
    public async Task ShippedConfigMap_OnRunningGateway_ProbesPassItsAllowlist_AndItsPlaceholderClusterNeverLooksHealthy()
    {
        var documents = LoadAll();
        var container = Container(Single(documents, "Deployment"));
        var directory = Directory.CreateTempSubdirectory("healthproxy-configmap-");
        try
        {
            var file = System.IO.Path.Combine(directory.FullName, "appsettings.json");
            await File.WriteAllTextAsync(file, Scalar(Path(Single(documents, "ConfigMap"), "data"), "appsettings.json"));
            using var config = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            Assert.NotEmpty(config.RootElement.GetProperty("HealthProxy").GetProperty("Security").GetProperty("AllowedNetworks").EnumerateArray());
            var destinations = config.RootElement.GetProperty("ReverseProxy").GetProperty("Clusters").GetProperty("catalog").GetProperty("Destinations");
            Assert.All(destinations.EnumerateObject(), d => Assert.EndsWith(".invalid", new Uri(d.Value.GetProperty("Address").GetString()!).Host, StringComparison.Ordinal));

            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), jsonFile: file);
            await gateway.WaitStartedAsync();

            // The kubelet's probes pass the ConfigMap's own allowlist (this test calls from loopback, as a kubelet calls from its node).
            foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                using var response = await gateway.Client.GetAsync(Scalar(Path(container, probe, "httpGet"), "path"));
                Assert.True(response.IsSuccessStatusCode, $"{probe} answered {(int)response.StatusCode}");
            }

            // The placeholder cluster is judged unhealthy and its traffic fails: nobody mistakes it for a working one.
            await gateway.WaitForStatesAsync("catalog", ("catalog-a", HealthState.Unhealthy), ("catalog-b", HealthState.Unhealthy), ("catalog-c", HealthState.Unhealthy));
            using var proxied = await gateway.Client.GetAsync("/catalog/items");
            Assert.True((int)proxied.StatusCode >= 500, $"the placeholder cluster answered {(int)proxied.StatusCode}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
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

    private static List<YamlMappingNode> LoadAll() =>
        Directory.GetFiles(Tooling.RepoPath("config", "kubernetes"), "*.yaml").Order(StringComparer.Ordinal).SelectMany(LoadFile).ToList();

    private static IEnumerable<YamlMappingNode> LoadFile(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(file);
        stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
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
