namespace HealthProxy.Gateway.Resilience;

/// <summary>What one forwarding attempt says about its destination, as its breaker records it.</summary>
internal enum AttemptOutcome
{
    /// <summary>The destination answered (or the client went away, which is not the destination's fault).</summary>
    Success = 0,

    /// <summary>A transport error, a timeout or a failure status code.</summary>
    Failure = 1,
}
