using System.Net;
using HealthProxy.Consul.Simulator;
using HealthProxy.Testing;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Client;

/// <summary>How the client turns Consul's failures into <see cref="ConsulException"/>s (simulator and stubs only: the faults are injected).</summary>
public sealed class ConsulClientErrorTests
{
    private static ConsulClient Stub(HttpStatusCode status, string body, string contentType = "text/plain") =>
        TestClients.For(new ConsulClientOptions(), new StubHandler(status, body, contentType));

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "Invalid wait time")]
    [InlineData(HttpStatusCode.NotFound, "Unknown service ID \"x\". Ensure that the service ID is passed, not the service name.")]
    [InlineData(HttpStatusCode.InternalServerError, "Failed to create boolean expression evaluator: 1:1 (0): no match found")]
    public async Task GetHealthService_PlainTextErrorBody_BecomesConsulExceptionWithStatusAndMessage(HttpStatusCode status, string body)
    {
        var error = await Assert.ThrowsAsync<ConsulException>(() => Stub(status, body).GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.HttpError, error.Kind);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(body, error.ConsulMessage);
        Assert.Contains(body, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsAccessDenied);
    }

    [Fact]
    public async Task Request_LongErrorBody_IsTruncatedInTheMessage()
    {
        var error = await Assert.ThrowsAsync<ConsulException>(() => Stub(HttpStatusCode.InternalServerError, new string('e', 100_000)).DeregisterServiceAsync("x"));

        Assert.True(error.ConsulMessage!.Length <= 513);
        Assert.True(error.Message.Length < 1_000);
    }

    [Fact]
    public async Task GetHealthService_AclTokenMissing_IsAccessDenied()
    {
        await using var simulator = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { AclToken = "s3cr3t-token" });

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.True(error.IsAccessDenied);
        Assert.Equal(ConsulErrorKind.AccessDenied, error.Kind);
        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Contains("Permission denied", error.ConsulMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthService_WrongToken_IsAccessDeniedAndTheTokenIsInNoMessage()
    {
        await using var simulator = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { AclToken = "s3cr3t-token" });

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address, token: "wrong-secret-value").GetHealthServiceAsync("web"));

        Assert.True(error.IsAccessDenied);
        Assert.Contains("ACL not found", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-value", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthService_RightToken_IsSentAsHeaderAndAccepted()
    {
        await using var simulator = await ConsulSimulator.StartAsync(new ConsulSimulatorOptions { AclToken = "s3cr3t-token" });

        var answer = await TestClients.For(simulator.Address, token: "s3cr3t-token").GetHealthServiceAsync("web");

        Assert.Empty(answer.Value);
        var request = Assert.Single(simulator.Requests);
        Assert.True(request.HadToken);
        Assert.DoesNotContain("token", request.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthService_MalformedJson_IsMalformedResponseNotJsonException()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.Fault = SimulatorFault.MalformedJson;

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.MalformedResponse, error.Kind);
    }

    [Fact]
    public async Task GetHealthService_EntriesWithoutNodeOrService_AreMalformed()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.Fault = SimulatorFault.MissingFields;

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.MalformedResponse, error.Kind);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"not\":\"a list\"}")]
    [InlineData("")]
    public async Task GetHealthService_JsonOfTheWrongShape_IsMalformed(string body)
    {
        var error = await Assert.ThrowsAsync<ConsulException>(() => Stub(HttpStatusCode.OK, body, "application/json").GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.MalformedResponse, error.Kind);
    }

    [Fact]
    public async Task GetHealthService_TenMegabyteBody_IsResponseTooLarge()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.Fault = SimulatorFault.OversizedBody;

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.ResponseTooLarge, error.Kind);
        Assert.Contains("MaxResponseBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthService_BodyOverTheLimitWithoutContentLength_IsResponseTooLarge()
    {
        var client = TestClients.For(new ConsulClientOptions { MaxResponseBytes = 1024 }, new ChunkedHandler(new string(' ', 4096) + "[]"));

        var error = await Assert.ThrowsAsync<ConsulException>(() => client.GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.ResponseTooLarge, error.Kind);
    }

    [Fact]
    public async Task GetHealthService_ServerError_Is500HttpError()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.Fault = SimulatorFault.InternalError;

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Contains("No cluster leader", error.ConsulMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHealthService_AgentDown_IsUnreachable()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        await simulator.StopAsync();

        var error = await Assert.ThrowsAsync<ConsulException>(() => TestClients.For(simulator.Address).GetHealthServiceAsync("web"));

        Assert.Equal(ConsulErrorKind.Unreachable, error.Kind);
    }

    [Fact]
    public async Task GetHealthService_NoAnswerWithinTheRequestTimeout_IsTimeoutOnTheInjectedClock()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.ResponseDelay = TimeSpan.FromMinutes(10);
        var clock = new FakeTimeProvider();
        var client = TestClients.For(new ConsulClientOptions { Address = simulator.Address, RequestTimeout = TimeSpan.FromSeconds(5) }, timeProvider: clock);

        var call = client.GetHealthServiceAsync("web");
        await Eventually.HoldsAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                return call.IsCompleted;
            },
            "the request timed out on the fake clock");

        var error = await Assert.ThrowsAsync<ConsulException>(() => call);
        Assert.Equal(ConsulErrorKind.Timeout, error.Kind);
    }

    [Fact]
    public async Task GetHealthService_CallerCancels_IsOperationCanceled()
    {
        await using var simulator = await ConsulSimulator.StartAsync();
        simulator.ResponseDelay = TimeSpan.FromMinutes(10);
        using var cancel = new CancellationTokenSource();

        var call = TestClients.For(simulator.Address).GetHealthServiceAsync("web", cancellationToken: cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public void Constructor_HttpClientWithTheDefault100SecondTimeout_IsRejected()
    {
        using var http = new HttpClient();

        var error = Assert.Throws<ArgumentException>(() => new ConsulClient(http, new ConsulClientOptions()));

        Assert.Contains("InfiniteTimeSpan", error.Message, StringComparison.Ordinal);
    }

    private sealed class ChunkedHandler(string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new UnknownLengthContent(body) });
        }
    }

    /// <summary>Content whose length is unknown up front, like a chunked answer.</summary>
    private sealed class UnknownLengthContent(string body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
