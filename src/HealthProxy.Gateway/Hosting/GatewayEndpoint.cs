namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Endpoint metadata on the gateway's own endpoints (health views, dashboard, gRPC health, scrape path),
/// so the locks and the dedicated ports are decided from the endpoint routing matched, once per request.
/// </summary>
internal sealed class GatewayEndpoint
{
    private GatewayEndpoint(GatewayEndpointKind kind) => Kind = kind;

    /// <summary>An HTTP health view or the dashboard: behind the allowlist.</summary>
    public static GatewayEndpoint Health { get; } = new(GatewayEndpointKind.Health);

    /// <summary><c>grpc.health.v1.Health</c>: behind the allowlist, refused by the service with a gRPC status.</summary>
    public static GatewayEndpoint GrpcHealth { get; } = new(GatewayEndpointKind.GrpcHealth);

    /// <summary>The Prometheus scrape path.</summary>
    public static GatewayEndpoint Metrics { get; } = new(GatewayEndpointKind.Metrics);

    public GatewayEndpointKind Kind { get; }
}
