namespace HealthProxy.Gateway.Hosting;

/// <summary>What a <see cref="GatewayEndpoint"/> serves.</summary>
internal enum GatewayEndpointKind
{
    Health,
    GrpcHealth,
    Metrics,
}
