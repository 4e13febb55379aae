namespace HealthProxy.Health;

/// <summary>What a request does to the service it reaches, which decides the instances that may take it.</summary>
public enum RequestKind
{
    /// <summary>Safe to serve from a degraded instance (GET, HEAD, OPTIONS, TRACE by default).</summary>
    Read = 0,

    /// <summary>Changes state; only a healthy instance may take it.</summary>
    Write = 1,
}
