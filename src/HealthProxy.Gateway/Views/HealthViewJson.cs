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
