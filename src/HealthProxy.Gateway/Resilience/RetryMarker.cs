namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// A request feature that tells <see cref="ResilienceMiddleware"/> and <see cref="RetryResponseTransformProvider"/>
/// about each other's decisions. Only the two shared instances exist, and they are set only on the failure path.
/// </summary>
internal sealed class RetryMarker
{
    private RetryMarker()
    {
    }

    /// <summary>The transform withheld a retryable response's body (and took a retry from the budget).</summary>
    public static RetryMarker Suppressed { get; } = new();

    /// <summary>No (further) retry will be made for this request: let every response through.</summary>
    public static RetryMarker Final { get; } = new();
}
