namespace HealthProxy.Gateway.Resilience;

/// <summary>How a forwarding attempt failed, as far as a retry is concerned.</summary>
internal enum AttemptFailure
{
    /// <summary>It did not fail (or failed in a way no retry can mend).</summary>
    None = 0,

    /// <summary>Nothing was sent: the chosen destination is ejected.</summary>
    NotSent,

    /// <summary>The destination refused the connection: the request never left the gateway.</summary>
    ConnectionRefused,

    /// <summary>A transport error or a timeout at the destination, before the response started.</summary>
    Transport,

    /// <summary>The destination answered 502, 503 or 504, and its body was withheld for a retry.</summary>
    RetryableStatus,
}
