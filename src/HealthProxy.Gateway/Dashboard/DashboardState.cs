using System.Buffers;
using System.Text.Json;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Endpoints;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using HealthProxy.Health.Views;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>
/// Writes everything the dashboard shows as one JSON document: the page renders from it alone, both on
/// connect and on every pushed update. Ids only, never addresses, as <c>/health/detailed</c>.
/// </summary>
internal sealed class DashboardState(
    HealthViews views, RoutingTable table, ConsulDiscovery discovery, DashboardEventLog events, TimeProvider timeProvider)
{
    public byte[] Write()
    {
        var snapshot = views.Current;
        var now = timeProvider.GetUtcNow();
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("generatedAt", now);
            writer.WriteNumber("version", snapshot.Version);
            writer.WritePropertyName("overall");
            HealthViewJson.WriteGroup(writer, snapshot.Overall);
            writer.WriteStartArray("categories");
            foreach (var (category, group) in snapshot.Categories.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("name", category);
                writer.WriteString("status", HealthViewJson.Name(group.Health));
                writer.WriteNumber("healthy", group.Healthy);
                writer.WriteNumber("serving", group.Serving);
                writer.WriteNumber("total", group.Total);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("services");
            foreach (var service in snapshot.Services.Values.OrderBy(s => s.Category, StringComparer.Ordinal).ThenBy(s => s.Service, StringComparer.Ordinal))
            {
                WriteService(writer, snapshot, service);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("cascades");
            foreach (var cascade in snapshot.Cascades.Values.OrderBy(c => c.Root, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("root", cascade.Root);
                writer.WriteString("since", cascade.Since);
                HealthViewJson.WriteStrings(writer, "affected", cascade.Affected);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("registry");
            foreach (var status in discovery.Status.OrderBy(s => s.Service, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("service", status.Service);
                writer.WriteBoolean("reachable", status.Reachable);
                writer.WriteBoolean("stale", status.Stale);
                if (status.DataAge is { } age)
                {
                    writer.WriteNumber("dataAgeSeconds", Math.Round(age.TotalSeconds, 1));
                }
                else
                {
                    writer.WriteNull("dataAgeSeconds");
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("events");
            foreach (var item in events.Recent())
            {
                writer.WriteStartObject();
                writer.WriteString("at", item.At);
                writer.WriteString("kind", item.Kind);
                writer.WriteString("subject", item.Subject);
                writer.WriteString("text", item.Text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteService(Utf8JsonWriter writer, HealthViewSnapshot snapshot, ServiceHealthView service)
    {
        writer.WriteStartObject();
        writer.WriteString("name", service.Service);
        writer.WriteString("category", service.Category);
        writer.WriteString("status", HealthViewJson.Name(service.Health));
        writer.WriteBoolean("serving", service.Serving);
        writer.WriteBoolean("critical", service.Critical);
        writer.WriteString("since", service.Since);
        table.TryGet(service.Service, out var routing);

        // The Consul service behind a discovered cluster: its registry data age is its instances' data age.
        writer.WriteString("registryService", routing?.Metadata?.GetValueOrDefault(ConsulMetadata.Service));
        HealthViewJson.WriteStrings(writer, "dependsOn", snapshot.Graph.DependenciesOf(service.Service));
        HealthViewJson.WriteStrings(writer, "affectedBy", snapshot.AffectedBy.TryGetValue(service.Service, out var roots) ? roots : []);
        writer.WriteStartArray("instances");
        if (routing is not null)
        {
            foreach (var (id, instance) in routing.Instances.OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject();
                writer.WriteString("id", id);
                writer.WriteString("state", instance.State?.ToWireName() ?? "unknown");
                writer.WriteString("source", instance.Source switch
                {
                    State.HealthSource.Registry => "consul",
                    { } source => source.ToString().ToLowerInvariant(),
                    null => "none",
                });
                writer.WriteString("since", instance.Since);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
