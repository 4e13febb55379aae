namespace HealthProxy.Gateway.Views;

/// <summary>The gRPC health service's listener (<c>HealthProxy:Grpc</c>).</summary>
public sealed class GrpcHealthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Grpc";

    /// <summary>
    /// A port for <c>grpc.health.v1.Health</c> over cleartext HTTP/2 (h2c, prior knowledge). Default:
    /// none, no gRPC listener (gRPC health is then reachable only where the main endpoints speak HTTP/2
    /// over TLS). 0 picks a free port. Setting it makes Kestrel bind the main URLs explicitly beside it.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>The address the gRPC port binds: an IP, <c>localhost</c>, or <c>*</c> (default, every interface).</summary>
    public string Host { get; set; } = "*";
}
