namespace HealthProxy.Consul;

/// <summary>Why a Consul call failed; stable enough to put in a metric tag or a status page.</summary>
public enum ConsulErrorKind
{
    /// <summary>Consul answered with a non-2xx status other than 403 (the status and the plain-text message are on the exception).</summary>
    HttpError = 0,

    /// <summary>Consul answered 403: the ACL token is missing, unknown, or lacks the permission.</summary>
    AccessDenied = 1,

    /// <summary>The body was not the JSON the endpoint documents.</summary>
    MalformedResponse = 2,

    /// <summary>The body was larger than <see cref="ConsulClientOptions.MaxResponseBytes"/>.</summary>
    ResponseTooLarge = 3,

    /// <summary>No answer within the request's timeout.</summary>
    Timeout = 4,

    /// <summary>The connection failed (refused, reset, DNS, TLS).</summary>
    Unreachable = 5,

    /// <summary>Anything else (a bug rather than a Consul problem); the watch reports it and retries.</summary>
    Unexpected = 6,
}
