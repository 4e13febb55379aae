namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// An extra traffic listener that speaks only HTTP/2 without TLS (h2c, prior knowledge), as gRPC clients and
/// Envoy expect, beside the main addresses (section <see cref="SectionName"/>). A listener that speaks HTTP/1.1 and
/// HTTP/2 without TLS can only be HTTP/1.1, since h2c cannot be negotiated. Needs a restart.
/// </summary>
public sealed class H2cOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "HealthProxy:H2c";

    /// <summary>The port, 0 to 65535 (0: any free port). Default none: no h2c listener.</summary>
    public int? Port { get; set; }

    /// <summary>The address it binds to. Default <c>*</c> (every interface).</summary>
    public string Host { get; set; } = "*";
}
