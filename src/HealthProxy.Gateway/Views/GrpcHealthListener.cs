using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HealthProxy.Gateway.Views;

/// <summary>The Kestrel listener of the gRPC health port, once bound (its port is known only then when 0 was asked).</summary>
internal sealed class GrpcHealthListener
{
    public ListenOptions? Options { get; set; }

    /// <summary>The bound port, or null when there is no gRPC listener.</summary>
    public int? Port => Options?.IPEndPoint?.Port;
}
