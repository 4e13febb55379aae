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

    /// <summary>The destination answered a status the retry policy retries, and its body was withheld for a retry.</summary>
    RetryableStatus,

    /// <summary>An HTTP/2 or HTTP/3 destination refused the stream (REFUSED_STREAM, H3_REQUEST_REJECTED): it did not process it.</summary>
    RefusedStream,

    /// <summary>The attempt ran past the policy's per-try timeout and was cancelled.</summary>
    PerTryTimeout,
}
