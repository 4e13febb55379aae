using System.Net;

namespace HealthProxy.Consul;

/// <summary>
/// A Consul call that failed. The message names the method, the path and, for HTTP errors, Consul's
/// plain-text message (truncated); it never contains the ACL token.
/// </summary>
public sealed class ConsulException : Exception
{
    /// <summary>Creates an exception without details (for serializers and tests).</summary>
    public ConsulException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public ConsulException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public ConsulException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception of a given kind.</summary>
    public ConsulException(ConsulErrorKind kind, string message, HttpStatusCode? statusCode = null, string? consulMessage = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
        ConsulMessage = consulMessage;
    }

    /// <summary>Why the call failed.</summary>
    public ConsulErrorKind Kind { get; }

    /// <summary>The HTTP status Consul answered with, when it answered.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Consul's plain-text error body, truncated; <see langword="null"/> when there was none.</summary>
    public string? ConsulMessage { get; }

    /// <summary>Whether Consul refused the call for ACL reasons (HTTP 403).</summary>
    public bool IsAccessDenied => Kind == ConsulErrorKind.AccessDenied;
}
