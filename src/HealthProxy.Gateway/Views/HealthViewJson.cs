using System.Text.Json;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using HealthProxy.Health.Views;

namespace HealthProxy.Gateway.Views;

/// <summary>The JSON pieces the detailed view and the dashboard both write, so they never drift apart.</summary>
internal static class HealthViewJson
{
    /// <summary>The wire word of an aggregate: <c>healthy</c>, <c>degraded</c>, <c>unhealthy</c> or <c>unknown</c>.</summary>
    public static string Name(AggregateHealth health) => health switch
    {
        AggregateHealth.Healthy => HealthStateNames.Healthy,
        AggregateHealth.Degraded => HealthStateNames.Degraded,
        AggregateHealth.Unhealthy => HealthStateNames.Unhealthy,
        _ => "unknown",
    };

    /// <summary>A group (category or overall) as <c>{"status","healthy","serving","total"}</c>.</summary>
    public static void WriteGroup(Utf8JsonWriter writer, GroupHealthView group)
    {
        writer.WriteStartObject();
        writer.WriteString("status", Name(group.Health));
        writer.WriteNumber("healthy", group.Healthy);
        writer.WriteNumber("serving", group.Serving);
        writer.WriteNumber("total", group.Total);
        writer.WriteEndObject();
    }

    /// <summary>A named array of strings.</summary>
    public static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// <c>failover</c>: the cluster's tiers (0 = local) and, for reads and writes, the tier serving, whether the
    /// kind is in its fallback, since when, and when a better tier takes it back. The detailed view and the dashboard
    /// write it with this one function.
    /// </summary>
    public static void WriteFailover(Utf8JsonWriter writer, ClusterRouting routing, DateTimeOffset now)
    {
        writer.WriteStartObject("failover");
        writer.WriteStartArray("tiers");
        foreach (var tier in routing.Tiers)
        {
            writer.WriteNumberValue(tier);
        }

        writer.WriteEndArray();
        WriteTier(writer, "reads", routing, RequestKind.Read, now);
        WriteTier(writer, "writes", routing, RequestKind.Write, now);
        writer.WriteEndObject();
    }

    private static void WriteTier(Utf8JsonWriter writer, string name, ClusterRouting routing, RequestKind kind, DateTimeOffset now)
    {
        var selection = routing.Selection(kind);
        writer.WriteStartObject(name);
        writer.WriteNumber("tier", routing.ServingTier(kind));
        writer.WriteBoolean("fallback", selection.Serving < 0);
        writer.WriteString("since", selection.Since);
        writer.WriteNumber("ageSeconds", Math.Round(Math.Max(0, (now - selection.Since).TotalSeconds), 3));
        if (selection.FailbackDue is { } due)
        {
            writer.WriteString("failbackAt", due);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// An instance's weights as routing uses them: <c>readWeight</c>, <c>writeWeight</c>, <c>inFlight</c>, and while it
    /// ramps up, <c>slowStart</c> (<c>factor</c>, and <c>progress</c> through the window).
    /// </summary>
    public static void WriteWeight(Utf8JsonWriter writer, InstanceWeight weight, InstanceHealth instance, WeightSettings settings, DateTimeOffset now)
    {
        writer.WriteNumber("readWeight", Math.Round(weight.Read, 4));
        writer.WriteNumber("writeWeight", Math.Round(weight.Write, 4));
        writer.WriteNumber("inFlight", weight.InFlight);
        if (weight.SlowStart < 1 && instance.RoutableSince is { } since)
        {
            writer.WriteStartObject("slowStart");
            writer.WriteNumber("factor", Math.Round(weight.SlowStart, 4));
            writer.WriteNumber("progress", Math.Round(Math.Min(1, (now - since) / settings.SlowStartWindow), 4));
            writer.WriteEndObject();
        }
    }
}
