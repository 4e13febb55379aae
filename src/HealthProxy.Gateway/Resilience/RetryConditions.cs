namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// The failures a retry policy retries (Envoy's <c>retry_on</c> names), read from a comma list in
/// <c>HealthProxy.RetryOn</c>. Whatever is listed, a request that reached an instance is sent again only when
/// <see cref="RetryRules.MaySendAgain"/> allows it.
/// </summary>
[Flags]
internal enum RetryConditions
{
    None = 0,

    /// <summary><c>gateway-error</c>: a 502, 503 or 504 response.</summary>
    GatewayError = 1,

    /// <summary><c>5xx</c>: any 5xx response, and everything <c>reset</c>, <c>connect-failure</c> and <c>refused-stream</c> cover.</summary>
    FiveXx = 2,

    /// <summary><c>reset</c>: the connection broke or timed out before a response started.</summary>
    Reset = 4,

    /// <summary><c>connect-failure</c>: the connection was refused; the request never left the gateway.</summary>
    ConnectFailure = 8,

    /// <summary><c>refused-stream</c>: an HTTP/2 or HTTP/3 instance refused the stream unprocessed.</summary>
    RefusedStream = 16,

    /// <summary><c>retriable-status-codes</c>: a response whose status is in <c>HealthProxy.RetriableStatusCodes</c>.</summary>
    RetriableStatusCodes = 32,

    /// <summary><c>cancelled</c>: a gRPC call answered CANCELLED in its headers (trailers-only), nothing sent to the client.</summary>
    GrpcCancelled = 64,

    /// <summary><c>deadline-exceeded</c>: a gRPC call answered DEADLINE_EXCEEDED in its headers.</summary>
    GrpcDeadlineExceeded = 128,

    /// <summary><c>internal</c>: a gRPC call answered INTERNAL in its headers.</summary>
    GrpcInternal = 256,

    /// <summary><c>resource-exhausted</c>: a gRPC call answered RESOURCE_EXHAUSTED in its headers.</summary>
    GrpcResourceExhausted = 512,

    /// <summary><c>unavailable</c>: a gRPC call answered UNAVAILABLE in its headers.</summary>
    GrpcUnavailable = 1024,
}
