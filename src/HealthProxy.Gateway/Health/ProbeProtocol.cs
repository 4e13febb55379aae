namespace HealthProxy.Gateway.Health;

/// <summary>How a cluster's active probes ask an instance (cluster metadata <c>HealthProxy.ProbeProtocol</c>).</summary>
internal enum ProbeProtocol
{
    /// <summary><c>http</c>: a GET of <c>HealthCheck:Active:Path</c>, read by <see cref="ProbeResponseParser"/>.</summary>
    Http = 0,

    /// <summary><c>grpc</c>: a unary <c>grpc.health.v1.Health/Check</c>, read by <see cref="GrpcProbeResponseParser"/>.</summary>
    Grpc = 1,
}
