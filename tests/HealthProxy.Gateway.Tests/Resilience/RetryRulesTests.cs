using System.Net.Sockets;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class RetryRulesTests
{
    private static readonly StatusCodeSet FiveHundreds = StatusCodeSet.TryParse("500-599", out var set) ? set : StatusCodeSet.Empty;

    [Theory]
    [InlineData(nameof(AttemptFailure.NotSent), RequestKind.Write, true, "open_circuit")]
    [InlineData(nameof(AttemptFailure.ConnectionRefused), RequestKind.Write, true, "refused")]
    [InlineData(nameof(AttemptFailure.ConnectionRefused), RequestKind.Read, false, "refused")]
    [InlineData(nameof(AttemptFailure.Transport), RequestKind.Read, false, "transport")]
    [InlineData(nameof(AttemptFailure.RetryableStatus), RequestKind.Read, false, "status")]
    public void Reason_SafeToSendAgain_Retried(string failure, RequestKind kind, bool hasBody, string expected) =>
        Assert.Equal(expected, RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), RetryPolicy.Default, kind, hasBody));

    [Theory]
    [InlineData(nameof(AttemptFailure.None), RequestKind.Read, false)]
    [InlineData(nameof(AttemptFailure.Transport), RequestKind.Write, false)]
    [InlineData(nameof(AttemptFailure.RetryableStatus), RequestKind.Write, false)]
    [InlineData(nameof(AttemptFailure.Transport), RequestKind.Read, true)]
    [InlineData(nameof(AttemptFailure.RetryableStatus), RequestKind.Read, true)]
    public void Reason_SentWriteOrReadWithABody_NotRetried(string failure, RequestKind kind, bool hasBody) =>
        Assert.Null(RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), RetryPolicy.Default, kind, hasBody));

    [Theory]
    [InlineData(nameof(AttemptFailure.ConnectionRefused), true)]
    [InlineData(nameof(AttemptFailure.Transport), true)]
    [InlineData(nameof(AttemptFailure.RetryableStatus), false)]
    [InlineData(nameof(AttemptFailure.NotSent), false)]
    public void NeedsBudget_OnlyFailuresNotAlreadyPaidFor(string failure, bool expected) =>
        Assert.Equal(expected, RetryRules.NeedsBudget(Enum.Parse<AttemptFailure>(failure)));

    [Theory]
    [InlineData(503, RequestKind.Read, false, true)]
    [InlineData(502, RequestKind.Read, false, true)]
    [InlineData(504, RequestKind.Read, false, true)]
    [InlineData(500, RequestKind.Read, false, false)]
    [InlineData(503, RequestKind.Write, false, false)]
    [InlineData(503, RequestKind.Read, true, false)]
    public void MayWithhold_OnlyGatewayErrorsOfReadsWithoutABody(int status, RequestKind kind, bool hasBody, bool expected) =>
        Assert.Equal(expected, RetryRules.MayWithhold(status, RetryPolicy.Default, kind, hasBody));

    [Theory]
    [InlineData("5xx", 500, true)]
    [InlineData("5xx", 599, true)]
    [InlineData("5xx", 429, false)]
    [InlineData("gateway-error", 500, false)]
    [InlineData("retriable-status-codes", 409, true)]
    [InlineData("retriable-status-codes", 503, false)]
    [InlineData("reset,connect-failure", 503, false)]
    public void MayWithhold_ReadWithoutABody_FollowsRetryOn(string retryOn, int status, bool expected) =>
        Assert.Equal(expected, RetryRules.MayWithhold(status, Policy(retryOn, codes: "409,429-430"), RequestKind.Read, hasBody: false));

    [Theory]
    [InlineData(nameof(AttemptFailure.Transport))]
    [InlineData(nameof(AttemptFailure.RetryableStatus))]
    [InlineData(nameof(AttemptFailure.PerTryTimeout))]
    public void Reason_WriteThatReachedAnInstance_NeverRetriedWhateverRetryOnLists(string failure)
    {
        var everything = Policy("5xx,gateway-error,reset,connect-failure,refused-stream,retriable-status-codes", codes: "400-599", attempts: "10");

        Assert.Null(RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), everything, RequestKind.Write, hasBody: false));
        Assert.Null(RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), everything, RequestKind.Write, hasBody: true));
        Assert.False(RetryRules.MayWithhold(500, everything, RequestKind.Write, hasBody: false));
    }

    [Theory]
    [InlineData(nameof(AttemptFailure.Transport), "transport")]
    [InlineData(nameof(AttemptFailure.RetryableStatus), "status")]
    [InlineData(nameof(AttemptFailure.PerTryTimeout), "per_try_timeout")]
    public void Reason_IdempotentWriteWithoutABody_RetriedLikeARead(string failure, string expected)
    {
        var idempotent = Policy("5xx", idempotent: true);

        Assert.Equal(expected, RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), idempotent, RequestKind.Write, hasBody: false));
        Assert.Null(RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), idempotent, RequestKind.Write, hasBody: true));
    }

    [Theory]
    [InlineData("gateway-error", nameof(AttemptFailure.ConnectionRefused))]
    [InlineData("gateway-error", nameof(AttemptFailure.Transport))]
    [InlineData("gateway-error", nameof(AttemptFailure.PerTryTimeout))]
    [InlineData("reset", nameof(AttemptFailure.RefusedStream))]
    [InlineData("connect-failure", nameof(AttemptFailure.Transport))]
    public void Reason_ConditionNotListed_NotRetried(string retryOn, string failure) =>
        Assert.Null(RetryRules.Reason(Enum.Parse<AttemptFailure>(failure), Policy(retryOn), RequestKind.Read, hasBody: false));

    [Fact]
    public void Reason_RefusedStream_RetriedForAWriteWithoutABodyOnly()
    {
        var policy = Policy("refused-stream");

        Assert.Equal("refused_stream", RetryRules.Reason(AttemptFailure.RefusedStream, policy, RequestKind.Write, hasBody: false));
        Assert.Null(RetryRules.Reason(AttemptFailure.RefusedStream, policy, RequestKind.Write, hasBody: true));
    }

    [Fact]
    public void Reason_NotSent_RetriedWhateverRetryOnLists() =>
        Assert.Equal("open_circuit", RetryRules.Reason(AttemptFailure.NotSent, Policy("retriable-status-codes", codes: "500"), RequestKind.Write, hasBody: true));

    [Theory]
    [InlineData(0x7L, true)]
    [InlineData(0x10bL, true)]
    [InlineData(0x2L, false)]
    public void Classify_StreamReset_RefusedStreamOnlyForItsCodes(long code, bool refused) =>
        Assert.Equal(
            refused ? AttemptFailure.RefusedStream : AttemptFailure.Transport,
            RetryRules.Classify(Error(ForwarderError.Request, new HttpRequestException("x", new HttpProtocolException(code, "reset", null))), withheld: false));

    [Fact]
    public void Classify_PerTryTimeout_WinsOverTheCancellationItCaused() =>
        Assert.Equal(AttemptFailure.PerTryTimeout, RetryRules.Classify(Error(ForwarderError.RequestCanceled, new TaskCanceledException()), withheld: false, perTryTimedOut: true));

    private static RetryPolicy Policy(string retryOn, string? codes = null, string? attempts = null, bool idempotent = false)
    {
        var metadata = new Dictionary<string, string> { [HealthProxy.Gateway.Configuration.HealthProxyMetadata.RetryOn] = retryOn };
        if (codes is not null)
        {
            metadata[HealthProxy.Gateway.Configuration.HealthProxyMetadata.RetriableStatusCodes] = codes;
        }

        if (attempts is not null)
        {
            metadata[HealthProxy.Gateway.Configuration.HealthProxyMetadata.MaxAttempts] = attempts;
        }

        if (idempotent)
        {
            metadata[HealthProxy.Gateway.Configuration.HealthProxyMetadata.IdempotentWrites] = "true";
        }

        var problems = new List<string>();
        var policy = RetryPolicy.Default.With(metadata, "test", route: true, problems);
        Assert.Empty(problems);
        return policy;
    }

    [Fact]
    public void Classify_RefusedConnection_IsConnectionRefused() =>
        Assert.Equal(AttemptFailure.ConnectionRefused, RetryRules.Classify(Error(ForwarderError.Request, new HttpRequestException("x", new SocketException((int)SocketError.ConnectionRefused))), withheld: false));

    [Theory]
    [InlineData(ForwarderError.Request, nameof(AttemptFailure.Transport))]
    [InlineData(ForwarderError.RequestTimedOut, nameof(AttemptFailure.Transport))]
    [InlineData(ForwarderError.ResponseHeaders, nameof(AttemptFailure.Transport))]
    [InlineData(ForwarderError.RequestCanceled, nameof(AttemptFailure.None))]
    [InlineData(ForwarderError.RequestBodyClient, nameof(AttemptFailure.None))]
    [InlineData(ForwarderError.RequestBodyDestination, nameof(AttemptFailure.None))]
    public void Classify_ForwarderError_DestinationFaultsOnly(ForwarderError error, string expected) =>
        Assert.Equal(Enum.Parse<AttemptFailure>(expected), RetryRules.Classify(Error(error, new IOException("x")), withheld: false));

    [Fact]
    public void Classify_WithheldStatus_IsRetryableStatus() =>
        Assert.Equal(AttemptFailure.RetryableStatus, RetryRules.Classify(null, withheld: true));

    [Theory]
    [InlineData(ForwarderError.Request, 502, nameof(AttemptOutcome.Failure))]
    [InlineData(ForwarderError.RequestTimedOut, 504, nameof(AttemptOutcome.Failure))]
    [InlineData(ForwarderError.ResponseBodyDestination, 200, nameof(AttemptOutcome.Failure))]
    [InlineData(ForwarderError.RequestCanceled, 502, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(ForwarderError.RequestBodyCanceled, 502, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(ForwarderError.RequestBodyClient, 400, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(ForwarderError.RequestBodyDestination, 413, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(ForwarderError.RequestBodyDestination, 502, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(ForwarderError.ResponseBodyClient, 200, nameof(AttemptOutcome.ClientCaused))]
    public void Judge_ForwarderError_OnlyTheDestinationsOwnCount(ForwarderError error, int status, string expected) =>
        Assert.Equal(Enum.Parse<AttemptOutcome>(expected), RetryRules.Judge(Error(error, new IOException("x")), status, clientAborted: false, FiveHundreds));

    [Theory]
    [InlineData(200, nameof(AttemptOutcome.Success))]
    [InlineData(500, nameof(AttemptOutcome.Failure))]
    [InlineData(503, nameof(AttemptOutcome.Failure))]
    [InlineData(404, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(413, nameof(AttemptOutcome.ClientCaused))]
    [InlineData(429, nameof(AttemptOutcome.ClientCaused))]
    public void Judge_Status_ConfiguredCodesCountAnd4xxNever(int status, string expected)
    {
        var with4xx = StatusCodeSet.TryParse("400-599", out var set) ? set : StatusCodeSet.Empty;

        Assert.Equal(Enum.Parse<AttemptOutcome>(expected), RetryRules.Judge(null, status, clientAborted: false, with4xx));
    }

    [Fact]
    public void Judge_ClientAborted_NeverCounts() =>
        Assert.Equal(AttemptOutcome.ClientCaused, RetryRules.Judge(Error(ForwarderError.RequestTimedOut, new TaskCanceledException()), 504, clientAborted: true, FiveHundreds));

    [Theory]
    [InlineData(null, false)]
    [InlineData(0L, false)]
    [InlineData(12L, true)]
    public void HasBody_NoBodyDetection_ReadsContentLength(long? contentLength, bool expected)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = contentLength;

        Assert.Equal(expected, RetryRules.HasBody(context.Request));
    }

    private static ForwarderErrorFeature Error(ForwarderError error, Exception exception) => new(error, exception);

    private sealed class ForwarderErrorFeature(ForwarderError error, Exception exception) : IForwarderErrorFeature
    {
        public ForwarderError Error => error;

        public Exception? Exception => exception;
    }
}
