using System.Collections.Frozen;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Health;
using Google.Protobuf.Reflection;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// One route's gRPC methods, from its metadata: the read methods it names (<see cref="HealthProxyMetadata.GrpcReadMethods"/>,
/// <c>package.Service/Method</c> or <c>package.Service/*</c>) over the methods of its descriptor set
/// (<see cref="HealthProxyMetadata.GrpcDescriptorSet"/>: <c>NO_SIDE_EFFECTS</c> reads, <c>IDEMPOTENT</c> writes that may be
/// sent again, the rest writes). A method neither names is a write. Immutable; finding a call's method is two
/// dictionary lookups on the request path, without allocating.
/// </summary>
internal sealed class GrpcRouteMethods
{
    private readonly FrozenDictionary<string, GrpcMethod>.AlternateLookup<ReadOnlySpan<char>> _methods;
    private readonly FrozenDictionary<string, GrpcMethod>.AlternateLookup<ReadOnlySpan<char>> _services;

    private readonly GrpcMethod _other;

    private GrpcRouteMethods(Dictionary<string, GrpcMethod> methods, Dictionary<string, GrpcMethod> services, GrpcMethod other)
    {
        _other = other;
        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _services = services.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        Count = methods.Count + services.Count;
    }

    /// <summary>A route without gRPC metadata: every call is a write.</summary>
    public static GrpcRouteMethods None { get; } = new([], [], GrpcMethod.Other);

    /// <summary>How many methods and service wildcards the route knows.</summary>
    public int Count { get; }

    /// <summary>The method a call to <paramref name="path"/> (<c>/package.Service/Method</c>) makes.</summary>
    public GrpcMethod Find(ReadOnlySpan<char> path)
    {
        if (Count == 0 || path.Length < 4 || path[0] != '/')
        {
            return _other;
        }

        var name = path[1..];
        if (_methods.TryGetValue(name, out var method))
        {
            return method;
        }

        var slash = name.IndexOf('/');
        return slash > 0 && _services.TryGetValue(name[..slash], out var service) ? service : _other;
    }

    /// <summary>
    /// Reads a route's gRPC metadata; each bad value is added to <paramref name="problems"/> naming its key under
    /// <paramref name="keyPrefix"/>. <paramref name="resolvePath"/> turns a relative descriptor set path into a full one
    /// (the content root's). A route that declares its kind (<see cref="HealthProxyMetadata.RequestKind"/>) gives it to
    /// every method; the methods keep their names for the metrics.
    /// </summary>
    public static GrpcRouteMethods Parse(IReadOnlyDictionary<string, string>? metadata, Func<string, string> resolvePath, string keyPrefix, ICollection<string> problems)
    {
        if (metadata is null)
        {
            return None;
        }

        RequestKind? declared = metadata.TryGetValue(HealthProxyMetadata.RequestKind, out var kindText) && Routing.RequestKinds.TryParse(kindText, out var kind)
            ? kind
            : null;
        if (!metadata.ContainsKey(HealthProxyMetadata.GrpcReadMethods) && !metadata.ContainsKey(HealthProxyMetadata.GrpcDescriptorSet))
        {
            return declared is { } only ? new GrpcRouteMethods([], [], GrpcMethod.Other.WithKind(only)) : None;
        }

        var methods = new Dictionary<string, GrpcMethod>(StringComparer.Ordinal);
        var services = new Dictionary<string, GrpcMethod>(StringComparer.Ordinal);
        if (metadata.TryGetValue(HealthProxyMetadata.GrpcDescriptorSet, out var file))
        {
            var key = $"{keyPrefix}:{HealthProxyMetadata.GrpcDescriptorSet}";
            if (string.IsNullOrWhiteSpace(file))
            {
                problems.Add($"{key} must name a descriptor set file (protoc --descriptor_set_out).");
            }
            else if (!GrpcDescriptorSet.TryLoad(resolvePath(file), out var inFile, out var problem))
            {
                problems.Add($"{key}: '{file}' {problem}.");
            }
            else
            {
                foreach (var method in inFile)
                {
                    methods[method.FullName] = method.Level switch
                    {
                        MethodOptions.Types.IdempotencyLevel.NoSideEffects => new GrpcMethod(method.FullName, RequestKind.Read, idempotent: true),
                        MethodOptions.Types.IdempotencyLevel.Idempotent => new GrpcMethod(method.FullName, RequestKind.Write, idempotent: true),
                        _ => new GrpcMethod(method.FullName, RequestKind.Write, idempotent: false),
                    };
                }
            }
        }

        if (metadata.TryGetValue(HealthProxyMetadata.GrpcReadMethods, out var list))
        {
            var key = $"{keyPrefix}:{HealthProxyMetadata.GrpcReadMethods}";
            var entries = (list ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (entries.Length == 0)
            {
                problems.Add($"{key} must list methods as package.Service/Method or package.Service/* (got '{list}').");
            }

            foreach (var entry in entries)
            {
                if (!TrySplit(entry, out var service, out var name))
                {
                    problems.Add($"{key} must list methods as package.Service/Method or package.Service/* (got '{entry}').");
                    continue;
                }

                if (name == "*")
                {
                    services[service] = new GrpcMethod($"{service}/*", RequestKind.Read, idempotent: true);
                    foreach (var (known, method) in methods.Where(m => m.Key.StartsWith(service + "/", StringComparison.Ordinal)).ToList())
                    {
                        methods[known] = method.AsRead();
                    }
                }
                else
                {
                    var full = $"{service}/{name}";
                    methods[full] = methods.TryGetValue(full, out var method) ? method.AsRead() : new GrpcMethod(full, RequestKind.Read, idempotent: true);
                }
            }
        }

        if (declared is { } all)
        {
            foreach (var key in methods.Keys.ToList())
            {
                methods[key] = methods[key].WithKind(all);
            }

            foreach (var key in services.Keys.ToList())
            {
                services[key] = services[key].WithKind(all);
            }
        }

        var other = declared is { } route ? GrpcMethod.Other.WithKind(route) : GrpcMethod.Other;
        return methods.Count == 0 && services.Count == 0 && declared is null ? None : new GrpcRouteMethods(methods, services, other);
    }

    private static bool TrySplit(string entry, out string service, out string method)
    {
        var text = entry.StartsWith('/') ? entry[1..] : entry;
        var slash = text.IndexOf('/');
        service = slash > 0 ? text[..slash] : "";
        method = slash > 0 ? text[(slash + 1)..] : "";
        return service.Length > 0 && method.Length > 0
            && service.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.') && !service.StartsWith('.') && !service.EndsWith('.')
            && (method == "*" || method.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'));
    }
}
