using HealthProxy.Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// A cluster's probe protocol and gRPC health service name, read from its metadata
/// (<see cref="HealthProxyMetadata.ProbeProtocol"/>, <see cref="HealthProxyMetadata.GrpcHealthService"/>).
/// Read afresh on every probe, so a reload applies at the next one; validation rejects bad values first.
/// </summary>
internal static class GrpcProbeSettings
{
    /// <summary>The protocol name of today's HTTP probes.</summary>
    public const string Http = "http";

    /// <summary>The protocol name of <c>grpc.health.v1</c> probes.</summary>
    public const string Grpc = "grpc";

    /// <summary>The cluster's probe protocol: <see cref="ProbeProtocol.Http"/> unless its metadata says <c>grpc</c>.</summary>
    public static ProbeProtocol ProtocolOf(ClusterConfig cluster) =>
        cluster.Metadata?.TryGetValue(HealthProxyMetadata.ProbeProtocol, out var text) == true && TryParse(text, out var protocol) ? protocol : ProbeProtocol.Http;

    /// <summary>The service name a gRPC probe of the cluster asks about; empty (the whole server) unless set.</summary>
    public static string ServiceOf(ClusterConfig cluster) =>
        cluster.Metadata?.TryGetValue(HealthProxyMetadata.GrpcHealthService, out var service) == true ? service ?? string.Empty : string.Empty;

    /// <summary>Adds every problem with the two keys to <paramref name="problems"/>, each naming its key under <paramref name="prefix"/> (<c>...:Metadata</c>).</summary>
    public static void Check(IReadOnlyDictionary<string, string>? metadata, string prefix, List<string> problems)
    {
        if (metadata is null)
        {
            return;
        }

        var protocol = ProbeProtocol.Http;
        if (metadata.TryGetValue(HealthProxyMetadata.ProbeProtocol, out var text) && !TryParse(text, out protocol))
        {
            problems.Add($"{prefix}:{HealthProxyMetadata.ProbeProtocol} must be '{Http}' or '{Grpc}' (got '{text}').");
            return;
        }

        // A service name on an HTTP-probed cluster would be silently ignored: say so instead.
        if (metadata.TryGetValue(HealthProxyMetadata.GrpcHealthService, out var service) && protocol != ProbeProtocol.Grpc)
        {
            problems.Add($"{prefix}:{HealthProxyMetadata.GrpcHealthService} is only read when {prefix}:{HealthProxyMetadata.ProbeProtocol} is '{Grpc}' (got service '{service}').");
        }
    }

    private static bool TryParse(string? text, out ProbeProtocol protocol)
    {
        protocol = string.Equals(text, Http, StringComparison.OrdinalIgnoreCase) ? ProbeProtocol.Http
            : string.Equals(text, Grpc, StringComparison.OrdinalIgnoreCase) ? ProbeProtocol.Grpc
            : (ProbeProtocol)(-1);
        return Enum.IsDefined(protocol);
    }
}
