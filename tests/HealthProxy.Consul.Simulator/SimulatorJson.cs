using System.Text.Json;

namespace HealthProxy.Consul.Simulator;

/// <summary>Writes the simulator's answers in the shape of Consul's (PascalCase, the fields of the doc samples plus the index fields live agents add).</summary>
internal static class SimulatorJson
{
    public static void WriteEntry(Utf8JsonWriter writer, SimNode node, SimService service, IEnumerable<SimCheck> checks, string datacenter)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("Node");
        writer.WriteString("ID", node.Id);
        writer.WriteString("Node", node.Name);
        writer.WriteString("Address", node.Address);
        writer.WriteString("Datacenter", datacenter);
        writer.WriteStartObject("TaggedAddresses");
        writer.WriteString("lan", node.Address);
        writer.WriteString("wan", node.Address);
        writer.WriteEndObject();
        writer.WriteStartObject("Meta");
        writer.WriteString("consul-network-segment", "");
        writer.WriteEndObject();
        writer.WriteNumber("CreateIndex", node.CreateIndex);
        writer.WriteNumber("ModifyIndex", node.ModifyIndex);
        writer.WriteEndObject();

        writer.WriteStartObject("Service");
        writer.WriteString("ID", service.Id);
        writer.WriteString("Service", service.Name);
        WriteStrings(writer, "Tags", service.Tags);
        writer.WriteString("Address", service.Address);
        writer.WriteStartObject("TaggedAddresses");
        var address = service.Address.Length > 0 ? service.Address : node.Address;
        foreach (var name in new[] { "lan", "wan" })
        {
            writer.WriteStartObject(name);
            writer.WriteString("Address", address);
            writer.WriteNumber("Port", service.Port);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        WriteMap(writer, "Meta", service.Meta);
        writer.WriteNumber("Port", service.Port);
        writer.WriteStartObject("Weights");
        writer.WriteNumber("Passing", service.WeightPassing);
        writer.WriteNumber("Warning", service.WeightWarning);
        writer.WriteEndObject();
        writer.WriteBoolean("EnableTagOverride", false);
        writer.WriteNumber("CreateIndex", service.CreateIndex);
        writer.WriteNumber("ModifyIndex", service.ModifyIndex);
        writer.WriteEndObject();

        writer.WriteStartArray("Checks");
        foreach (var check in checks)
        {
            WriteCheck(writer, check, check.ServiceId.Length == 0 ? [] : service.Tags);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteCheck(Utf8JsonWriter writer, SimCheck check, IReadOnlyList<string> serviceTags)
    {
        writer.WriteStartObject();
        writer.WriteString("Node", check.Node);
        writer.WriteString("CheckID", check.CheckId);
        writer.WriteString("Name", check.Name);
        writer.WriteString("Status", check.Status);
        writer.WriteString("Notes", check.Notes);
        writer.WriteString("Output", check.Output);
        writer.WriteString("ServiceID", check.ServiceId);
        writer.WriteString("ServiceName", check.ServiceName);
        WriteStrings(writer, "ServiceTags", serviceTags);
        writer.WriteString("Type", check.Type);
        writer.WriteNumber("ExposedPort", 0);
        writer.WriteStartObject("Definition");
        writer.WriteEndObject();
        writer.WriteNumber("CreateIndex", check.CreateIndex);
        writer.WriteNumber("ModifyIndex", check.ModifyIndex);
        writer.WriteEndObject();
    }

    public static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    public static void WriteMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> values)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }
}
