using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.GrpcRouting;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Health;
using Microsoft.AspNetCore.Http;

namespace HealthProxy.Gateway.Tests.GrpcRouting;

public class GrpcRetryRulesTests
{
    private static readonly GrpcStatusSet Unavailable = GrpcStatusSet.Of(GrpcStatus.Unavailable);

    [Theory]
    [InlineData(0, "Success")]
    [InlineData(5, "Success")]
    [InlineData(3, "Success")]
    [InlineData(13, "Success")]
    [InlineData(14, "Failure")]
    public void Judge_GrpcStatus_OnlyTheConfiguredCodesCount(int grpcStatus, string expected)
    {
        var outcome = RetryRules.Judge(null, 200, clientAborted: false, StatusCodeSet.Empty, grpcStatus, Unavailable);

        Assert.Equal(Enum.Parse<AttemptOutcome>(expected), outcome);
    }

    [Fact]
    public void Judge_GrpcStatus_ClientGoneIsTheClients()
    {
        Assert.Equal(AttemptOutcome.ClientCaused, RetryRules.Judge(null, 200, clientAborted: true, StatusCodeSet.Empty, 14, Unavailable));
    }

    [Fact]
    public void Judge_NoGrpcStatus_FallsBackToTheHttpStatus()
    {
        Assert.True(StatusCodeSet.TryParse("500-599", out var fiveXx));
        Assert.Equal(AttemptOutcome.Failure, RetryRules.Judge(null, 503, false, fiveXx, -1, Unavailable));
        Assert.Equal(AttemptOutcome.Success, RetryRules.Judge(null, 200, false, fiveXx, -1, Unavailable));
    }

    [Theory]
    [InlineData(14, RequestKind.Read, false, false, true)]
    [InlineData(14, RequestKind.Write, false, false, false)]
    [InlineData(14, RequestKind.Write, false, true, true)]
    [InlineData(14, RequestKind.Read, true, false, false)]
    [InlineData(13, RequestKind.Read, false, false, false)]
    [InlineData(5, RequestKind.Read, false, false, false)]
    public void MayWithholdGrpc_DefaultPolicy_UnavailableOfReadsAndIdempotentMethods(int status, RequestKind kind, bool hasBody, bool idempotent, bool expected) =>
        Assert.Equal(expected, RetryRules.MayWithholdGrpc(status, RetryPolicy.Default, kind, hasBody, idempotent));

    [Theory]
    [InlineData("unavailable", 14, true)]
    [InlineData("gateway-error", 14, false)]
    [InlineData("5xx", 14, false)]
    [InlineData("internal,resource-exhausted", 13, true)]
    [InlineData("internal,resource-exhausted", 8, true)]
    [InlineData("cancelled,deadline-exceeded", 1, true)]
    [InlineData("cancelled,deadline-exceeded", 4, true)]
    [InlineData("cancelled,deadline-exceeded", 14, false)]
    public void MayWithholdGrpc_FollowsRetryOn(string retryOn, int status, bool expected)
    {
        var problems = new List<string>();
        var policy = RetryPolicy.Default.With(new Dictionary<string, string> { [HealthProxyMetadata.RetryOn] = retryOn }, "p", route: false, problems);

        Assert.Empty(problems);
        Assert.Equal(expected, RetryRules.MayWithholdGrpc(status, policy, RequestKind.Read, hasBody: false, idempotent: false));
    }

    [Fact]
    public void Reason_IdempotentGrpcWrite_MaySendAgainLikeARead()
    {
        Assert.Equal("status", RetryRules.Reason(AttemptFailure.RetryableStatus, RetryPolicy.Default, RequestKind.Write, hasBody: false, idempotent: true));
        Assert.Null(RetryRules.Reason(AttemptFailure.RetryableStatus, RetryPolicy.Default, RequestKind.Write, hasBody: false, idempotent: false));
        Assert.Equal("transport", RetryRules.Reason(AttemptFailure.Transport, RetryPolicy.Default, RequestKind.Write, hasBody: false, idempotent: true));
    }

    [Fact]
    public async Task CanResend_AKeptBodyUntilItOverflows()
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = "HTTP/2";
        context.Request.ContentLength = 10;
        Assert.False(RetryRules.CanResend(context.Request));

        var kept = new ReplayableBody(new MemoryStream(new byte[ReplayableBody.Limit + 10]));
        context.Request.Body = kept;
        Assert.True(RetryRules.CanResend(context.Request));

        await kept.CopyToAsync(Stream.Null);
        Assert.False(RetryRules.CanResend(context.Request));
    }
}
