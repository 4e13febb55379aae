using System.Text.Json.Serialization;

namespace HealthProxy.Consul.Api;

/// <summary>
/// Source-generated JSON for the Consul API: PascalCase as declared, case-insensitive reads (doc samples
/// use lower case in places), unknown fields ignored, nulls not written.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    MaxDepth = 32)]
[JsonSerializable(typeof(List<ConsulServiceEntry>))]
[JsonSerializable(typeof(Dictionary<string, List<string>?>))]
[JsonSerializable(typeof(ConsulServiceRegistration))]
[JsonSerializable(typeof(ConsulCheckUpdate))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
