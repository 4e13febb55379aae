namespace HealthProxy.Gateway.Diagnostics;

/// <summary>Metric tag names, one place for all of them. Values are bounded: ids from config, state names.</summary>
internal static class GatewayTags
{
    public const string Cluster = "cluster";
    public const string Destination = "destination";
    public const string State = "state";
    public const string RequestKind = "request_kind";
    public const string Reason = "reason";

    /// <summary>Which attempt of a request a retry makes: <c>2</c> for the first retry, up to the policy's <c>HealthProxy.MaxAttempts</c>.</summary>
    public const string Attempt = "attempt";

    /// <summary>A YARP route id (from config).</summary>
    public const string Route = "route";

    /// <summary>A forwarded request's outcome class: <c>1xx</c>..<c>5xx</c>, <c>error</c>, <c>canceled</c>.</summary>
    public const string Outcome = "outcome";

    /// <summary>A service: the cluster id for what the gateway computes, or the name the views publish under.</summary>
    public const string Service = "service";

    /// <summary>A dependency a service reports on (its status document's dependency name).</summary>
    public const string Dependency = "dependency";

    /// <summary>A service category (cluster metadata <c>HealthProxy.Category</c> or the views' category).</summary>
    public const string Category = "category";

    /// <summary><c>true</c> or <c>false</c>: whether losing it takes the product down.</summary>
    public const string Critical = "critical";

    /// <summary>A watched Consul service name.</summary>
    public const string ConsulService = "consul_service";

    /// <summary>A failover tier: the destinations' priority, <c>0</c> for the local tier.</summary>
    public const string Tier = "tier";

    /// <summary>A Consul datacenter a watch asks (only for watches that name one).</summary>
    public const string Datacenter = "datacenter";

    /// <summary>A gRPC method as config names it (<c>package.Service/Method</c>, <c>package.Service/*</c>), or <c>other</c>: never a raw path.</summary>
    public const string GrpcMethod = "grpc_method";

    /// <summary>A gRPC status name (<c>OK</c>, <c>UNAVAILABLE</c>, ...), or <c>none</c>.</summary>
    public const string GrpcStatus = "grpc_status";
}
