namespace HealthProxy.Gateway.Resilience;

/// <summary>One cluster's resolved passive health and retry settings, immutable; a configuration change makes a new one.</summary>
internal sealed class ClusterSettings
{
    public ClusterSettings(OutlierDetectionOptions options, bool retriesEnabled, RetryPolicy? retry = null, FailoverTimeout? failoverTimeout = null)
    {
        Options = options;
        FailoverTimeout = failoverTimeout;
        RetriesEnabled = retriesEnabled;
        Retry = retry ?? RetryPolicy.Default;

        // Validated before it gets here; an unreadable set would count nothing as a failure.
        FailureStatusCodes = StatusCodeSet.TryParse(options.FailureStatusCodes, out var codes) ? codes : StatusCodeSet.Empty;
        GrpcFailureCodes = GrpcRouting.GrpcStatusSet.TryParseInstanceCodes(options.GrpcFailureCodes, out var grpc, out _) ? grpc : GrpcRouting.GrpcStatusSet.Empty;
    }

    public OutlierDetectionOptions Options { get; }

    public StatusCodeSet FailureStatusCodes { get; }

    /// <summary>The gRPC statuses that count as the instance's failures (<see cref="OutlierDetectionOptions.GrpcFailureCodes"/>).</summary>
    public GrpcRouting.GrpcStatusSet GrpcFailureCodes { get; }

    public bool RetriesEnabled { get; }

    /// <summary>The cluster's retry policy (its metadata over the default); a route may override it.</summary>
    public RetryPolicy Retry { get; }

    /// <summary>The activity timeout of requests to the cluster's failover tiers; null: the cluster's own for every tier.</summary>
    public FailoverTimeout? FailoverTimeout { get; }
}
