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
/// Which failures are retried is the retry policy's (<see cref="RetryPolicy"/>: <c>HealthProxy.RetryOn</c>); whether a
/// request may be sent again is this class's alone, whatever the policy lists. Nothing sent (ejected destination)
/// and a refused connection (the request never left) are safe for any request; a refused stream (the instance
/// did not process it) for any request without a body. After a request reached an instance (a transport error,
/// a timeout, a retriable status), only a request without a body that is a read, or a write on a route that
/// declared its writes idempotent, is sent again (<see cref="MaySendAgain"/>). A request body is streamed to the
/// destination, not buffered, so once an attempt started it the body is gone.
/// </remarks>
internal static class RetryRules
{
    /// <summary>Why <paramref name="failure"/> may be retried on another destination under <paramref name="policy"/>, as the metric's reason tag; null when it may not.</summary>
    public static string? Reason(AttemptFailure failure, RetryPolicy policy, RequestKind kind, bool hasBody) => failure switch
    {
        AttemptFailure.NotSent => "open_circuit",
        AttemptFailure.ConnectionRefused when policy.Retries(RetryConditions.ConnectFailure) => "refused",
        AttemptFailure.RefusedStream when policy.Retries(RetryConditions.RefusedStream) && !hasBody => "refused_stream",
        AttemptFailure.Transport when policy.Retries(RetryConditions.Reset) && MaySendAgain(policy, kind, hasBody) => "transport",
        AttemptFailure.PerTryTimeout when policy.Retries(RetryConditions.Reset) && MaySendAgain(policy, kind, hasBody) => "per_try_timeout",
        AttemptFailure.RetryableStatus when MaySendAgain(policy, kind, hasBody) => "status",
        _ => null,
    };

    /// <summary>
    /// The write-safety rule: whether a request that reached an instance may be sent to another. Only without a body
    /// (it was streamed, not kept), and only a read, or a write of a route that declared its writes idempotent.
    /// </summary>
    public static bool MaySendAgain(RetryPolicy policy, RequestKind kind, bool hasBody) =>
        !hasBody && (kind == RequestKind.Read || policy.IdempotentWrites);

    /// <summary>
    /// Whether a request may be hedged (sent a second time while the first try is still out): only a read without a
    /// body, never a write, whatever the route declares about its writes; both tries reach an instance.
    /// </summary>
    public static bool MayHedge(RequestKind kind, bool hasBody) => kind == RequestKind.Read && !hasBody;

    /// <summary>Whether a retry for <paramref name="failure"/> still has to be taken from the cluster's budget (a withheld status took it already; nothing sent costs nothing).</summary>
    public static bool NeedsBudget(AttemptFailure failure) =>
        failure is AttemptFailure.ConnectionRefused or AttemptFailure.Transport or AttemptFailure.RefusedStream or AttemptFailure.PerTryTimeout;

    /// <summary>Whether a response with <paramref name="statusCode"/> may have its body withheld so that the request is retried under <paramref name="policy"/>.</summary>
    public static bool MayWithhold(int statusCode, RetryPolicy policy, RequestKind kind, bool hasBody) =>
        policy.Statuses.Contains(statusCode) && MaySendAgain(policy, kind, hasBody);

    /// <summary>Whether the request carries a body (a Content-Length above 0, chunked, or an HTTP/2 or 3 stream with data).</summary>
    public static bool HasBody(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { } detection ? detection.CanHaveBody : request.ContentLength > 0;

    /// <summary>How an attempt failed, for the retry decision.</summary>
    public static AttemptFailure Classify(IForwarderErrorFeature? error, bool withheld, bool perTryTimedOut = false)
    {
        if (withheld)
        {
            return AttemptFailure.RetryableStatus;
        }

        if (perTryTimedOut && error is not null)
        {
            return AttemptFailure.PerTryTimeout;
        }

        if (error is null || !IsDestinationFault(error.Error))
        {
            return AttemptFailure.None;
        }

        if (IsConnectionRefused(error))
        {
            return AttemptFailure.ConnectionRefused;
        }

        return IsRefusedStream(error) ? AttemptFailure.RefusedStream : AttemptFailure.Transport;
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

    /// <summary>
    /// True when an HTTP/2 instance reset the stream with REFUSED_STREAM (0x7) or an HTTP/3 one with
    /// H3_REQUEST_REJECTED (0x10b): by protocol, the instance did not process the request.
    /// </summary>
    public static bool IsRefusedStream(IForwarderErrorFeature error)
    {
        if (error.Error is not (ForwarderError.Request or ForwarderError.ResponseHeaders))
        {
            return false;
        }

        for (var exception = error.Exception; exception is not null; exception = exception.InnerException)
        {
            if (exception is HttpProtocolException { ErrorCode: 0x7 or 0x10b })
            {
                return true;
            }
        }

        return false;
    }

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
