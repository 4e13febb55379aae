using System.Net.Sockets;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// The rules, as pure functions: what an attempt says about its destination, and whether a failed attempt may
/// be retried on another destination.
/// </summary>
/// <remarks>
/// A retry is safe when nothing reached the client and the request can be sent again whole: nothing was sent
/// (ejected destination) or the connection was refused (the request never left), for any request; a transport
/// error, a timeout or a 502/503/504 only for a read without a body. A request body is streamed to the
/// destination, not buffered, so once an attempt started it the body is gone; a read that carries one (a POST
/// declared <c>Read</c>) is therefore not retried after it was sent.
/// </remarks>
internal static class RetryRules
{
    /// <summary>Why <paramref name="failure"/> may be retried on another destination, as the metric's reason tag; null when it may not.</summary>
    public static string? Reason(AttemptFailure failure, RequestKind kind, bool hasBody) => failure switch
    {
        AttemptFailure.NotSent => "open_circuit",
        AttemptFailure.ConnectionRefused => "refused",
        AttemptFailure.Transport when kind == RequestKind.Read && !hasBody => "transport",
        AttemptFailure.RetryableStatus when kind == RequestKind.Read && !hasBody => "status",
        _ => null,
    };

    /// <summary>Whether a retry for <paramref name="failure"/> still has to be taken from the cluster's budget (a withheld status took it already; nothing sent costs nothing).</summary>
    public static bool NeedsBudget(AttemptFailure failure) => failure is AttemptFailure.ConnectionRefused or AttemptFailure.Transport;

    /// <summary>Whether a response with <paramref name="statusCode"/> may have its body withheld so that the request is retried.</summary>
    public static bool MayWithhold(int statusCode, RequestKind kind, bool hasBody) =>
        statusCode is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout
        && kind == RequestKind.Read
        && !hasBody;

    /// <summary>Whether the request carries a body (a Content-Length above 0, chunked, or an HTTP/2 or 3 stream with data).</summary>
    public static bool HasBody(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { } detection ? detection.CanHaveBody : request.ContentLength > 0;

    /// <summary>How an attempt failed, for the retry decision.</summary>
    public static AttemptFailure Classify(IForwarderErrorFeature? error, bool withheld)
    {
        if (withheld)
        {
            return AttemptFailure.RetryableStatus;
        }

        if (error is null || !IsDestinationFault(error.Error))
        {
            return AttemptFailure.None;
        }

        return IsConnectionRefused(error) ? AttemptFailure.ConnectionRefused : AttemptFailure.Transport;
    }

    /// <summary>
    /// What an attempt says about its destination. Only the destination's own faults count: its transport errors
    /// and timeouts, and the configured failure status codes except 4xx. Nothing the client caused counts: a
    /// client that went away, a request body the client failed to send or the destination would not read (an
    /// early 413 and close), or a 4xx answer.
    /// </summary>
    public static AttemptOutcome Judge(IForwarderErrorFeature? error, int statusCode, bool clientAborted, StatusCodeSet failureStatusCodes)
    {
        if (clientAborted || statusCode is >= 400 and < 500)
        {
            return AttemptOutcome.ClientCaused;
        }

        if (error is not null)
        {
            return IsDestinationFault(error.Error) ? AttemptOutcome.Failure : AttemptOutcome.ClientCaused;
        }

        return failureStatusCodes.Contains(statusCode) ? AttemptOutcome.Failure : AttemptOutcome.Success;
    }

    /// <summary>
    /// The destination's own faults. <see cref="ForwarderError.RequestBodyDestination"/> is not one: the destination
    /// stopped reading the body, which is how an instance refuses an upload early.
    /// </summary>
    public static bool IsDestinationFault(ForwarderError error) => error is ForwarderError.Request
        or ForwarderError.RequestTimedOut
        or ForwarderError.ResponseHeaders
        or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeRequestDestination
        or ForwarderError.UpgradeResponseDestination
        or ForwarderError.UpgradeActivityTimeout;

    /// <summary>True when the error is a refused connection: the request never left the gateway.</summary>
    public static bool IsConnectionRefused(IForwarderErrorFeature error)
    {
        if (error.Error != ForwarderError.Request)
        {
            return false;
        }

        for (var exception = error.Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }
}
