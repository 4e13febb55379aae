namespace HealthProxy.Gateway.Views;

/// <summary>The gRPC health service's listener (<c>HealthProxy:Grpc</c>).</summary>
public sealed class GrpcHealthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:Grpc";

    /// <summary>
    /// A port for <c>grpc.health.v1.Health</c> over cleartext HTTP/2 (h2c, prior knowledge), serving that service
    /// and nothing else (every other request on it is a 404). Default: none, no gRPC listener (gRPC health is then
    /// reachable only where the main endpoints speak HTTP/2 over TLS). 0 picks a free port. The main addresses stay
    /// where the host names them (<c>urls</c>, <c>http_ports</c>/<c>https_ports</c>, or <c>Kestrel:Endpoints</c>). Needs a restart.
    /// </summary>
    public int? Port { get; set; }

    /// <summary>The address the gRPC port binds: an IP, <c>localhost</c>, or <c>*</c> (default, every interface).</summary>
    public string Host { get; set; } = "*";
}
