using System.Text.Json;
using System.Text.Json.Serialization;

namespace HealthProxy.Consul.Api;

/// <summary>Writes a <see cref="TimeSpan"/> as a Go duration string; reads one back from a string (only write paths need it today).</summary>
internal sealed class GoDurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new JsonException("Reading Go durations is not supported.");

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(GoDuration.Format(value));
    }
}
