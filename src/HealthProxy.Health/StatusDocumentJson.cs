using System.Buffers;
using System.Text.Json;

namespace HealthProxy.Health;

/// <summary>Writes and reads <see cref="StatusDocument"/> as JSON, without letting bad input throw.</summary>
public static class StatusDocumentJson
{
    private const string StatusProperty = "status";
    private const string ServiceProperty = "service";
    private const string OwnProperty = "own";
    private const string DependenciesProperty = "dependencies";
    private const string CriticalProperty = "critical";

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 16,
    };

    /// <summary>Serialises <paramref name="document"/> in the wire form.</summary>
    public static string Write(StatusDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, document);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes <paramref name="document"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, StatusDocument document)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(document);
        writer.WriteStartObject();
        writer.WriteString(StatusProperty, document.Status.ToWireName());
        if (document.Service is not null)
        {
            writer.WriteString(ServiceProperty, document.Service);
        }

        if (document.Own is { } own)
        {
            writer.WriteString(OwnProperty, own.ToWireName());
        }

        if (document.Dependencies.Count > 0)
        {
            writer.WriteStartObject(DependenciesProperty);
            foreach (var (name, dependency) in document.Dependencies)
            {
                writer.WriteStartObject(name);
                writer.WriteString(StatusProperty, dependency.Status.ToWireName());
                writer.WriteBoolean(CriticalProperty, dependency.Critical);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads a document from UTF-8 JSON. Returns <see langword="false"/> for anything that is not a JSON
    /// object with a known <c>status</c>; an unknown dependency state makes that dependency unhealthy.
    /// The caller caps the size of <paramref name="utf8Json"/>. Input that is not UTF-8 is refused before it is
    /// read: JSON must be UTF-8, and the reader's exception for it would cost more than the check.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, out StatusDocument? document)
    {
        document = null;
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            HealthState? status = null;
            HealthState? own = null;
            string? service = null;
            Dictionary<string, DependencyStatus>? dependencies = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(StatusProperty) || reader.ValueTextEquals("Status"))
                {
                    reader.Read();
                    status = ReadState(ref reader);
                }
                else if (reader.ValueTextEquals(ServiceProperty))
                {
                    reader.Read();
                    service = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals(OwnProperty))
                {
                    reader.Read();
                    own = ReadState(ref reader);
                }
                else if (reader.ValueTextEquals(DependenciesProperty))
                {
                    reader.Read();
                    dependencies = ReadDependencies(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (status is null)
            {
                return false;
            }

            document = new StatusDocument
            {
                Status = status.Value,
                Service = service,
                Own = own,
                Dependencies = dependencies ?? new Dictionary<string, DependencyStatus>(StringComparer.Ordinal),
            };
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The reader validates structure as it goes but UTF-8 only when a string is copied out:
            // invalid UTF-8 in a name or a state surfaces as InvalidOperationException (found by fuzzing).
            return false;
        }
    }

    /// <summary>Reads a document from a string.</summary>
    public static bool TryParse(string json, out StatusDocument? document)
    {
        ArgumentNullException.ThrowIfNull(json);
        return TryParse(System.Text.Encoding.UTF8.GetBytes(json), out document);
    }

    private static HealthState? ReadState(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        Span<char> buffer = stackalloc char[32];
        var length = reader.HasValueSequence || reader.ValueSpan.Length > buffer.Length ? -1 : reader.CopyString(buffer);
        return length >= 0 && HealthStateNames.TryParse(buffer[..length], out var state) ? state : null;
    }

    private static Dictionary<string, DependencyStatus>? ReadDependencies(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        var dependencies = new Dictionary<string, DependencyStatus>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                // Short form: "redis": "degraded".
                dependencies[name] = new DependencyStatus(ReadState(ref reader) ?? HealthState.Unhealthy, Critical: false);
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var status = HealthState.Unhealthy;
            var critical = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(StatusProperty))
                {
                    reader.Read();
                    status = ReadState(ref reader) ?? HealthState.Unhealthy;
                }
                else if (reader.ValueTextEquals(CriticalProperty))
                {
                    reader.Read();
                    critical = reader.TokenType == JsonTokenType.True;
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            dependencies[name] = new DependencyStatus(status, critical);
        }

        return dependencies;
    }
}
