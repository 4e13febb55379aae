using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>The Deployment's shutdown settings fit together: the kubelet never SIGKILLs a draining gateway.</summary>
public sealed class KubernetesShutdownManifestTests
{
    [Fact]
    public void Deployment_GracePeriod_ExceedsDrainDelayPlusShutdownTimeoutAndDrainCoversReadiness()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Tooling.RepoPath("config", "kubernetes", "deployment.yaml")))
        {
            stream.Load(reader);
        }

        var podSpec = (YamlMappingNode)Node(stream.Documents.Single().RootNode, "spec", "template", "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)Node(podSpec, "containers")).Children.Single();
        var env = ((YamlSequenceNode)Node(container, "env")).Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"), e => Scalar(e, "value"));
        var grace = TimeSpan.FromSeconds(int.Parse(Scalar(podSpec, "terminationGracePeriodSeconds"), CultureInfo.InvariantCulture));
        var drain = TimeSpan.Parse(env["HealthProxy__Shutdown__DrainDelay"], CultureInfo.InvariantCulture);
        var timeout = TimeSpan.Parse(env["HealthProxy__Shutdown__Timeout"], CultureInfo.InvariantCulture);
        var readiness = (YamlMappingNode)Node(container, "readinessProbe");
        var readinessFails = TimeSpan.FromSeconds(
            int.Parse(Scalar(readiness, "periodSeconds"), CultureInfo.InvariantCulture) * int.Parse(Scalar(readiness, "failureThreshold"), CultureInfo.InvariantCulture));

        Assert.True(grace > drain + timeout, $"terminationGracePeriodSeconds {grace.TotalSeconds} must exceed drain {drain} + timeout {timeout}");
        Assert.True(drain >= readinessFails, $"the drain delay {drain} lets the readiness probe fail ({readinessFails}) before the listener closes");
        Assert.False(container.Children.ContainsKey(new YamlScalarNode("lifecycle")), "no preStop hook: the gateway drains itself, and a hook's time would count against the grace period unseen");
    }

    private static YamlNode Node(YamlNode node, params string[] keys)
    {
        foreach (var key in keys)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)Node(node, key)).Value!;
}
