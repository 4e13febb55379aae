using System.Globalization;
using System.Text.Json;

namespace HealthProxy.Consul.Simulator;

/// <summary>Reads request bodies like Consul's decoder: field names case-insensitive, snake_case accepted.</summary>
internal static class JsonBody
{
    public static JsonElement? Get(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in obj.EnumerateObject())
        {
            if (Normalize(property.Name) == Normalize(name))
            {
                return property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
            }
        }

        return null;
    }

    public static string? String(JsonElement obj, string name) => Get(obj, name) switch
    {
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        null => null,
        _ => throw new FormatException($"json: cannot unmarshal into field {name} of type string"),
    };

    public static int? Int(JsonElement obj, string name) => Get(obj, name) switch
    {
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var i) => i,
        null => null,
        _ => throw new FormatException($"json: cannot unmarshal into field {name} of type int"),
    };

    /// <summary>A duration: a Go string, or a number of nanoseconds.</summary>
    public static TimeSpan? Duration(JsonElement obj, string name) => Get(obj, name) switch
    {
        { ValueKind: JsonValueKind.String } value => GoDurationParser.TryParse(value.GetString(), out var d)
            ? d
            : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"time: invalid duration \"{value.GetString()}\"")),
        { ValueKind: JsonValueKind.Number } value => TimeSpan.FromTicks(value.GetInt64() / 100),
        null => null,
        _ => throw new FormatException($"json: cannot unmarshal into field {name} of type time.Duration"),
    };

    public static List<string> Strings(JsonElement obj, string name) => Get(obj, name) switch
    {
        { ValueKind: JsonValueKind.Array } value => value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FormatException($"json: cannot unmarshal into field {name} of type []string")).ToList(),
        null => [],
        _ => throw new FormatException($"json: cannot unmarshal into field {name} of type []string"),
    };

    public static Dictionary<string, string> Map(JsonElement obj, string name) => Get(obj, name) switch
    {
        { ValueKind: JsonValueKind.Object } value => value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new FormatException($"json: cannot unmarshal into field {name} of type map[string]string"), StringComparer.Ordinal),
        null => new Dictionary<string, string>(StringComparer.Ordinal),
        _ => throw new FormatException($"json: cannot unmarshal into field {name} of type map[string]string"),
    };

    private static string Normalize(string name) => name.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
}
