namespace HealthProxy.Gateway.Resilience;

/// <summary>What one forwarding attempt says about its destination, as its passive health counts it.</summary>
internal enum AttemptOutcome
{
    /// <summary>The destination did its part.</summary>
    Success = 0,

    /// <summary>A transport error, a timeout or a failure status code.</summary>
    Failure = 1,

    /// <summary>The client caused the failure (it went away, its body failed, a 4xx): it says nothing about the destination and is not counted.</summary>
    ClientCaused = 2,
}
