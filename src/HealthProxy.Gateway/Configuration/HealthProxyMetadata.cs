namespace HealthProxy.Gateway.Configuration;

/// <summary>The keys HealthProxy reads from YARP's route and cluster <c>Metadata</c>.</summary>
public static class HealthProxyMetadata
{
    /// <summary>
    /// Route metadata overriding the request kind the HTTP method implies: <c>Read</c> or <c>Write</c>
    /// (e.g. a POST search endpoint declared <c>Read</c>).
    /// </summary>
    public const string RequestKind = "HealthProxy.RequestKind";

    /// <summary>
    /// Route metadata: the gRPC methods that are reads, a comma list of <c>package.Service/Method</c> and
    /// <c>package.Service/*</c> (every method of the service). Wins over the descriptor set; a method neither names is a write.
    /// </summary>
    public const string GrpcReadMethods = "HealthProxy.GrpcReadMethods";

    /// <summary>
    /// Route metadata: a protobuf descriptor set file (<c>protoc --descriptor_set_out</c>; relative to the content
    /// root), whose methods with <c>idempotency_level = NO_SIDE_EFFECTS</c> are reads and with <c>IDEMPOTENT</c> are
    /// writes that may be sent again.
    /// </summary>
    public const string GrpcDescriptorSet = "HealthProxy.GrpcDescriptorSet";

    /// <summary>
    /// Cluster metadata naming the cluster's category for the aggregated views and the <c>category</c> label
    /// of its health gauge (e.g. <c>payments</c>); wins over a Consul service's <c>Service.Meta["category"]</c>.
    /// Default: <c>uncategorized</c>.
    /// </summary>
    public const string Category = "HealthProxy.Category";

    /// <summary>Cluster metadata: <c>true</c> when the product cannot work without it (a <c>critical="true"</c> label, which alerts page on).</summary>
    public const string Critical = "HealthProxy.Critical";

    /// <summary>
    /// Cluster metadata listing the clusters this one depends on, comma-separated cluster ids
    /// (e.g. <c>payment,inventory</c>); added to the dependencies its instances publish.
    /// </summary>
    public const string DependsOn = "HealthProxy.DependsOn";

    /// <summary>
    /// Destination metadata: the instance's base weight, a number from 0 to 10,000 (default 1). Consul instances get
    /// it from <c>Weights.Passing</c>. Weight 0 takes no traffic.
    /// </summary>
    public const string Weight = "HealthProxy.Weight";

    /// <summary>
    /// Cluster metadata: the factor (0 to 1, default 0.2) a degraded instance's base weight is multiplied by for reads.
    /// As destination metadata: that instance's own read weight while degraded (Consul's <c>Weights.Warning</c>).
    /// </summary>
    public const string DegradedWeight = "HealthProxy.DegradedWeight";

    /// <summary>Cluster metadata: <c>Weighted</c> (default) or <c>SpillOver</c> (see <see cref="Routing.DegradedMode"/>).</summary>
    public const string DegradedMode = "HealthProxy.DegradedMode";

    /// <summary>Cluster metadata: the spill-over mode's overprovisioning factor, from 1 to 100 (default 1.4).</summary>
    public const string OverprovisioningFactor = "HealthProxy.OverprovisioningFactor";

    /// <summary>Cluster metadata: requests in flight at which a degraded instance takes no new reads (default 0: no cap).</summary>
    public const string DegradedMaxInFlight = "HealthProxy.DegradedMaxInFlight";

    /// <summary>Cluster metadata: the slow-start window, a duration (default none: no slow start).</summary>
    public const string SlowStartWindow = "HealthProxy.SlowStartWindow";

    /// <summary>Cluster metadata: the slow-start aggression (default 1.0: a linear ramp).</summary>
    public const string SlowStartAggression = "HealthProxy.SlowStartAggression";

    /// <summary>Cluster metadata: the slow-start minimum weight, a fraction (default 0.1).</summary>
    public const string SlowStartMinWeight = "HealthProxy.SlowStartMinWeight";

    /// <summary>Cluster metadata: where writes go while no instance is healthy, <c>All</c> (default) or <c>DegradedFirst</c>.</summary>
    public const string WriteFallback = "HealthProxy.WriteFallback";
    /// <summary>
    /// Cluster or route metadata: the failures retried on another instance, a comma list of <c>5xx</c>,
    /// <c>gateway-error</c>, <c>reset</c>, <c>connect-failure</c>, <c>refused-stream</c>, <c>retriable-status-codes</c>, and
    /// for gRPC calls answered in their headers (trailers-only) <c>cancelled</c>, <c>deadline-exceeded</c>, <c>internal</c>,
    /// <c>resource-exhausted</c>, <c>unavailable</c> (default <c>gateway-error,reset,connect-failure,unavailable</c>). A
    /// route's value replaces its cluster's.
    /// </summary>
    public const string RetryOn = "HealthProxy.RetryOn";

    /// <summary>Cluster or route metadata: the codes <c>retriable-status-codes</c> retries, codes and ranges from 400 to 599 (e.g. <c>500,409</c>).</summary>
    public const string RetriableStatusCodes = "HealthProxy.RetriableStatusCodes";

    /// <summary>Cluster or route metadata: attempts in all, the first included, 1 to 10 (default 2: one retry).</summary>
    public const string MaxAttempts = "HealthProxy.MaxAttempts";

    /// <summary>Cluster or route metadata: the limit on each attempt, a time span (default none); a timed-out attempt may be retried as a <c>reset</c>.</summary>
    public const string PerTryTimeout = "HealthProxy.PerTryTimeout";

    /// <summary>
    /// Route metadata: <c>true</c> declares the route's writes idempotent, so a write without a body may be sent again
    /// after it reached an instance, as a read may (default <c>false</c>: a write is retried only when it never left).
    /// </summary>
    public const string IdempotentWrites = "HealthProxy.IdempotentWrites";

    /// <summary>
    /// Destination metadata: the instance's failover tier, a whole number from 0 to 100 (default 0: the local tier).
    /// A request goes to the first tier, lowest number first, with an instance eligible for its kind. Consul clusters
    /// get it from the datacenter the instance was found in (0 for <c>consul.datacenter</c>, 1.. for each of
    /// <c>consul.failover.datacenters</c> in order).
    /// </summary>
    public const string Priority = "HealthProxy.Priority";

    /// <summary>
    /// Cluster metadata: how long a higher-priority tier must have been eligible for a request kind before that kind
    /// returns to it from a lower one, a duration from 00:00:00 to 01:00:00 (default 00:00:30). Failing over is immediate.
    /// </summary>
    public const string FailbackDelay = "HealthProxy.FailbackDelay";

    /// <summary>
    /// Cluster metadata: the activity timeout of requests to its failover tiers (priority above 0), a duration from
    /// 00:00:01 to 1.00:00:00 (default none: the cluster's <c>HttpRequest:ActivityTimeout</c> for every tier).
    /// </summary>
    public const string FailoverActivityTimeout = "HealthProxy.FailoverActivityTimeout";

    /// <summary>
    /// Route metadata: the hedge delay, a time span from 00:00:00.001 to 00:01:00 (default none: no hedging). A read
    /// without a body that has no response headers after this delay is sent a second time to another read-eligible
    /// instance; the first answer is used and the other try cancelled. Each hedge takes one retry from the cluster's budget.
    /// </summary>
    public const string HedgeDelay = "HealthProxy.HedgeDelay";

    /// <summary>
    /// Cluster metadata: how the active probes ask an instance, <c>http</c> (default: a GET of <c>HealthCheck:Active:Path</c>)
    /// or <c>grpc</c> (a unary <c>grpc.health.v1.Health/Check</c> call over HTTP/2).
    /// </summary>
    public const string ProbeProtocol = "HealthProxy.ProbeProtocol";

    /// <summary>
    /// Cluster metadata: the service name a <c>grpc</c> probe asks about, sent as <c>HealthCheckRequest.service</c>
    /// (default empty: the whole server). Only read when <see cref="ProbeProtocol"/> is <c>grpc</c>.
    /// </summary>
    public const string GrpcHealthService = "HealthProxy.GrpcHealthService";
}
