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
    /// <remarks><paramref name="hasBody"/> means a body that cannot be sent again (<see cref="CanResend"/>); <paramref name="idempotent"/>, a gRPC method declared <c>IDEMPOTENT</c>.</remarks>
    public static string? Reason(AttemptFailure failure, RetryPolicy policy, RequestKind kind, bool hasBody, bool idempotent = false) => failure switch
    {
        AttemptFailure.NotSent => "open_circuit",
        AttemptFailure.ConnectionRefused when policy.Retries(RetryConditions.ConnectFailure) => "refused",
        AttemptFailure.RefusedStream when policy.Retries(RetryConditions.RefusedStream) && !hasBody => "refused_stream",
        AttemptFailure.Transport when policy.Retries(RetryConditions.Reset) && MaySendAgain(policy, kind, hasBody, idempotent) => "transport",
        AttemptFailure.PerTryTimeout when policy.Retries(RetryConditions.Reset) && MaySendAgain(policy, kind, hasBody, idempotent) => "per_try_timeout",
        AttemptFailure.RetryableStatus when MaySendAgain(policy, kind, hasBody, idempotent) => "status",
        _ => null,
    };

    /// <summary>
    /// The write-safety rule: whether a request that reached an instance may be sent to another. Only without a body
    /// that is gone (streamed and not kept), and only a read, a write of a route that declared its writes idempotent,
    /// or a gRPC write whose method is declared <c>IDEMPOTENT</c> (<paramref name="idempotent"/>).
    /// </summary>
    public static bool MaySendAgain(RetryPolicy policy, RequestKind kind, bool hasBody, bool idempotent = false) =>
        !hasBody && (kind == RequestKind.Read || policy.IdempotentWrites || idempotent);

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

    /// <summary>
    /// Whether a gRPC response whose headers carry <paramref name="grpcStatus"/> (a trailers-only response: nothing of it
    /// reached the client yet) may be withheld so that the call is retried under <paramref name="policy"/>.
    /// </summary>
    public static bool MayWithholdGrpc(int grpcStatus, RetryPolicy policy, RequestKind kind, bool hasBody, bool idempotent) =>
        policy.GrpcStatuses.Contains(grpcStatus) && MaySendAgain(policy, kind, hasBody, idempotent);

    /// <summary>
    /// Whether the request can be sent to another instance as it is: it has no body, or its body is kept for a
    /// replay (<see cref="GrpcRouting.ReplayableBody"/>) and was small enough to be kept whole.
    /// </summary>
    public static bool CanResend(HttpRequest request) =>
        request.Body is GrpcRouting.ReplayableBody replayable ? replayable.CanReplay : !HasBody(request);

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
    /// and timeouts, the configured failure status codes except 4xx, and for a gRPC call the configured failure
    /// gRPC statuses (<paramref name="grpcStatus"/>, from the response's headers or trailers; -1 when none). Nothing the
    /// client caused counts: a client that went away, a request body the client failed to send or the destination
    /// would not read (an early 413 and close), a 4xx answer, or a gRPC status outside the set (NOT_FOUND,
    /// INVALID_ARGUMENT and the other codes that describe the request can never be in it).
    /// </summary>
    public static AttemptOutcome Judge(
        IForwarderErrorFeature? error, int statusCode, bool clientAborted, StatusCodeSet failureStatusCodes, int grpcStatus = -1, GrpcRouting.GrpcStatusSet grpcFailureCodes = default)
    {
        if (clientAborted || statusCode is >= 400 and < 500)
        {
            return AttemptOutcome.ClientCaused;
        }

        if (error is not null)
        {
            return IsDestinationFault(error.Error) ? AttemptOutcome.Failure : AttemptOutcome.ClientCaused;
        }

        if (grpcStatus >= 0)
        {
            return grpcFailureCodes.Contains(grpcStatus) ? AttemptOutcome.Failure : AttemptOutcome.Success;
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
