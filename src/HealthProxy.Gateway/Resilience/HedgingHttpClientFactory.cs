using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace HealthProxy.Gateway.Resilience;

/// <summary>YARP's client factory with <see cref="HedgingHandler"/> outermost in every cluster's handler chain (YARP's <c>WrapHandler</c> seam).</summary>
internal sealed class HedgingHttpClientFactory(
    HedgePlans plans, TimeProvider timeProvider, Diagnostics.GatewayMetrics metrics, Diagnostics.GatewayTracing tracing, ILoggerFactory loggers)
    : ForwarderHttpClientFactory(loggers.CreateLogger<ForwarderHttpClientFactory>())
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new HedgingHandler(plans, timeProvider, metrics, tracing, loggers.CreateLogger<HedgingHandler>()) { InnerHandler = handler };
}
