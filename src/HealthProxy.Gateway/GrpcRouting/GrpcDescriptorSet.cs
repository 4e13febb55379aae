using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// Reads a protobuf descriptor set (<c>protoc --descriptor_set_out</c>, a serialized <c>FileDescriptorSet</c>) for
/// the methods it declares and each one's <c>idempotency_level</c>.
/// </summary>
internal static class GrpcDescriptorSet
{
    /// <summary>A method of the set: its request path (<c>/package.Service/Method</c>) and idempotency level.</summary>
    public readonly record struct Method(string Service, string Name, MethodOptions.Types.IdempotencyLevel Level)
    {
        public string FullName => $"{Service}/{Name}";
    }

    /// <summary>The methods of the set in <paramref name="path"/>; <paramref name="problem"/> says why there are none.</summary>
    public static bool TryLoad(string path, out IReadOnlyList<Method> methods, out string? problem)
    {
        methods = [];
        problem = null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = $"cannot be read ({ex.GetType().Name}: {ex.Message})";
            return false;
        }

        FileDescriptorSet set;
        try
        {
            set = FileDescriptorSet.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            problem = "is not a protobuf descriptor set (protoc --descriptor_set_out)";
            return false;
        }

        var found = new List<Method>();
        foreach (var file in set.File)
        {
            foreach (var service in file.Service)
            {
                var serviceName = string.IsNullOrEmpty(file.Package) ? service.Name : $"{file.Package}.{service.Name}";
                foreach (var method in service.Method)
                {
                    found.Add(new Method(serviceName, method.Name, method.Options?.IdempotencyLevel ?? MethodOptions.Types.IdempotencyLevel.IdempotencyUnknown));
                }
            }
        }

        if (found.Count == 0)
        {
            problem = "declares no service methods";
            return false;
        }

        methods = found;
        return true;
    }
}
