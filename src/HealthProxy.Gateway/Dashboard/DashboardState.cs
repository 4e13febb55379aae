using System.Buffers;
using System.Collections.Immutable;
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
/// <remarks>
/// It reads what <c>/health/detailed</c> reads (the views' snapshot, each cluster's routing snapshot and its weights,
/// written by the same <see cref="HealthViewJson"/> pieces) and adds the page's own: each service's state history
/// (<see cref="HealthViews.History"/>) and each instance's requests over the last minute (<see cref="InstanceTraffic"/>).
/// </remarks>
internal sealed class DashboardState(
    HealthViews views, RoutingTable table, ConsulDiscovery discovery, DashboardEventLog events, InstanceTraffic traffic, TimeProvider timeProvider)
{
    public byte[] Write()
    {
        var snapshot = views.Current;
        var history = views.History.Current;
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
                WriteService(writer, snapshot, history, service, now);
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

    private void WriteService(
        Utf8JsonWriter writer, HealthViewSnapshot snapshot, ImmutableDictionary<string, ImmutableArray<ServiceStateChange>> history, ServiceHealthView service, DateTimeOffset now)
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
        WriteHistory(writer, history.TryGetValue(service.Service, out var changes) ? changes : [], now);
        if (routing is not null)
        {
            writer.WriteStartObject("tiers");
            writer.WriteString("reads", routing.Tier(RequestKind.Read));
            writer.WriteString("writes", routing.Tier(RequestKind.Write));
            writer.WriteEndObject();

            // An empty cluster has nothing to fall back to: no episode worth showing.
            writer.WriteStartObject("fallback");
            writer.WriteBoolean("reads", routing.ReadFallback is not null && routing.All.Count > 0);
            writer.WriteBoolean("writes", routing.WriteFallback is not null && routing.All.Count > 0);
            writer.WriteEndObject();
            HealthViewJson.WriteFailover(writer, routing, now);
        }

        writer.WriteStartArray("instances");
        if (routing is not null)
        {
            WriteInstances(writer, routing, now);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The changes within the last hour, led by the state the hour began in (stamped with the hour's start).</summary>
    private static void WriteHistory(Utf8JsonWriter writer, ImmutableArray<ServiceStateChange> changes, DateTimeOffset now)
    {
        var from = now - ServiceStateHistory.Window;
        writer.WriteStartArray("history");
        for (var i = 0; i < changes.Length; i++)
        {
            var change = changes[i];
            if (i + 1 < changes.Length && changes[i + 1].At <= from)
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("at", change.At < from ? from : change.At);
            writer.WriteString("status", HealthViewJson.Name(change.Health));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private void WriteInstances(Utf8JsonWriter writer, ClusterRouting routing, DateTimeOffset now)
    {
        // The weights come in the full set's order, which is also its destinations' order: one index serves both.
        var weights = routing.Weights(now);
        var counts = new Dictionary<string, (InstanceWeight Weight, TrafficWindow Traffic)>(weights.Length, StringComparer.Ordinal);
        long reads = 0, writes = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var window = traffic.LastMinute(routing.AllSet.Destinations[i]);
            counts[weights[i].DestinationId] = (weights[i], window);
            reads += window.Reads;
            writes += window.Writes;
        }

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
            if (counts.TryGetValue(id, out var entry))
            {
                HealthViewJson.WriteWeight(writer, entry.Weight, instance, routing.Settings, now);
                writer.WriteStartObject("lastMinute");
                writer.WriteNumber("reads", entry.Traffic.Reads);
                writer.WriteNumber("writes", entry.Traffic.Writes);
                writer.WriteNumber("fallbacks", entry.Traffic.Fallbacks);
                WriteShare(writer, "readShare", entry.Traffic.Reads, reads);
                WriteShare(writer, "writeShare", entry.Traffic.Writes, writes);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>The instance's part of its cluster's requests of one kind, 0 to 1; null when the cluster took none.</summary>
    private static void WriteShare(Utf8JsonWriter writer, string name, long part, long total)
    {
        if (total > 0)
        {
            writer.WriteNumber(name, Math.Round((double)part / total, 4));
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
