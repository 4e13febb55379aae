using System.Diagnostics.Metrics;
using System.Threading.Channels;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class HedgingHandlerTests : IDisposable
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly HedgePlans _plans = new();
    private readonly ScriptedHandler _inner = new();
    private readonly GatewayMetrics _metrics;
    private readonly MeterListener _listener = new();
    private readonly List<string> _outcomes = [];
    private readonly HttpMessageInvoker _invoker;

    public HedgingHandlerTests()
    {
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _metrics.Meter && instrument.Name == "healthproxy.hedges")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == GatewayTags.Outcome)
                {
                    lock (_outcomes)
                    {
                        _outcomes.Add((string)tag.Value!);
                    }
                }
            }
        });
        _listener.Start();
        var store = new InstanceHealthStore(new RoutingTable(), _time, _metrics, NullLogger<InstanceHealthStore>.Instance);
        var handler = new HedgingHandler(_plans, _time, _metrics, new GatewayTracing(false, store), NullLogger<HedgingHandler>.Instance) { InnerHandler = _inner };
        _invoker = new HttpMessageInvoker(handler);
    }

    [Fact]
    public async Task SendAsync_PrimaryAnswersBeforeTheDelay_NoHedge()
    {
        using var request = Read();
        _plans.Attach(request, Plan(Budget(1)));

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        primary.Answer("a");
        using var answered = await response.WaitAsync(Patience);
        _time.Advance(Delay * 10);

        Assert.Equal("a", ServedBy(answered));
        Assert.Equal(1, _inner.Sent);
        Assert.Empty(_outcomes);
    }

    [Fact]
    public async Task SendAsync_PrimarySlow_HedgeSentAfterExactlyTheDelayAndWinsAndPrimaryCancelled()
    {
        using var request = Read();
        request.Headers.Add("X-Trace", "t1");
        var plan = Plan(Budget(1));
        _plans.Attach(request, plan);

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay - TimeSpan.FromTicks(1));
        Assert.Equal(1, _inner.Sent);
        _time.Advance(TimeSpan.FromTicks(1));
        var hedge = await _inner.NextAsync();
        hedge.Answer("b");
        using var answered = await response.WaitAsync(Patience);

        Assert.Equal("b", ServedBy(answered));
        Assert.Equal(new Uri("http://b.test:8080/api/items?page=2"), hedge.Request.RequestUri);
        Assert.Equal(HttpMethod.Get, hedge.Request.Method);
        Assert.Equal("t1", Assert.Single(hedge.Request.Headers.GetValues("X-Trace")));
        Assert.True(primary.Token.IsCancellationRequested);
        Assert.False(hedge.Token.IsCancellationRequested);
        Assert.True(plan.Won);
        Assert.Equal([HedgingHandler.Won], _outcomes);
    }

    [Fact]
    public async Task SendAsync_PrimaryAnswersAfterTheHedgeWasSent_PrimaryWinsHedgeCancelledAndItsLateResponseDisposed()
    {
        using var request = Read();
        var plan = Plan(Budget(1));
        _plans.Attach(request, plan);

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay);
        var hedge = await _inner.NextAsync();
        primary.Answer("a");
        using var answered = await response.WaitAsync(Patience);
        var late = new TrackedContent();
        hedge.Answer("b", late);
        await WaitForAsync(() => late.Disposed);

        Assert.Equal("a", ServedBy(answered));
        Assert.True(hedge.Token.IsCancellationRequested);
        Assert.False(plan.Won);
        Assert.Equal([HedgingHandler.Lost], _outcomes);
    }

    [Fact]
    public async Task SendAsync_PrimaryFailsAfterTheHedgeWasSent_HedgeAnswers()
    {
        using var request = Read();
        _plans.Attach(request, Plan(Budget(1)));

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay);
        var hedge = await _inner.NextAsync();
        primary.Fail(new HttpRequestException("reset"));
        Assert.False(response.IsCompleted);
        hedge.Answer("b");
        using var answered = await response.WaitAsync(Patience);

        Assert.Equal("b", ServedBy(answered));
        Assert.Equal([HedgingHandler.Won], _outcomes);
    }

    [Fact]
    public async Task SendAsync_BudgetSpent_NoHedgeAndCountedAsSkipped()
    {
        using var request = Read();
        _plans.Attach(request, Plan(Budget(0)));

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay * 10);
        await WaitForAsync(() => _outcomes.Count > 0);
        primary.Answer("a");
        using var answered = await response.WaitAsync(Patience);

        Assert.Equal("a", ServedBy(answered));
        Assert.Equal(1, _inner.Sent);
        Assert.Equal([HedgingHandler.SkippedBudget], _outcomes);
    }

    [Fact]
    public async Task SendAsync_RequestWithABody_NeverHedged()
    {
        using var request = Read();
        request.Method = HttpMethod.Post;
        request.Content = new StringContent("{}");
        _plans.Attach(request, Plan(Budget(1)));

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay * 10);
        primary.Answer("a");
        using var answered = await response.WaitAsync(Patience);

        Assert.Equal("a", ServedBy(answered));
        Assert.Equal(1, _inner.Sent);
        Assert.Empty(_outcomes);
    }

    [Fact]
    public async Task SendAsync_NoPlan_PassesThroughUnhedged()
    {
        using var request = Read();

        var response = _invoker.SendAsync(request, CancellationToken.None);
        var primary = await _inner.NextAsync();
        _time.Advance(Delay * 10);
        primary.Answer("a");
        using var answered = await response.WaitAsync(Patience);

        Assert.Equal(1, _inner.Sent);
        Assert.Empty(_outcomes);
    }

    [Theory]
    [InlineData(RequestKind.Read, false, true)]
    [InlineData(RequestKind.Read, true, false)]
    [InlineData(RequestKind.Write, false, false)]
    [InlineData(RequestKind.Write, true, false)]
    public void MayHedge_OnlyReadsWithoutABody(RequestKind kind, bool hasBody, bool expected) =>
        Assert.Equal(expected, RetryRules.MayHedge(kind, hasBody));

    public void Dispose()
    {
        _listener.Dispose();
        _invoker.Dispose();
        _services.Dispose();
    }

    private static HttpRequestMessage Read() => new(HttpMethod.Get, "http://a.test:8080/api/items?page=2");

    private static string? ServedBy(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Served-By", out var values) ? values.First() : null;

    private RetryBudget Budget(int retries) =>
        new(new RetryOptions { BudgetRatio = 0, MinRetriesPerSecond = retries, BudgetWindow = TimeSpan.FromSeconds(1) }, _time);

    private static HedgePlan Plan(RetryBudget budget)
    {
        var alternate = new DestinationState("b", new DestinationModel(new DestinationConfig { Address = "http://b.test:8080/api/" }));
        return new HedgePlan("svc", alternate, "http://a.test:8080/api", Delay, budget);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Yield();
        }
    }

    /// <summary>Answers each request when the test says so.</summary>
    private sealed class ScriptedHandler : HttpMessageHandler
    {
        private readonly Channel<Try> _tries = Channel.CreateUnbounded<Try>();
        private int _sent;

        public int Sent => Volatile.Read(ref _sent);

        public async Task<Try> NextAsync() => await _tries.Reader.ReadAsync().AsTask().WaitAsync(Patience);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sent);
            var attempt = new Try(request, cancellationToken);
            _tries.Writer.TryWrite(attempt);
            return attempt.Response.Task;
        }
    }

    private sealed class Try(HttpRequestMessage request, CancellationToken token)
    {
        public HttpRequestMessage Request { get; } = request;

        public CancellationToken Token { get; } = token;

        public TaskCompletionSource<HttpResponseMessage> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Answer(string servedBy, HttpContent? content = null)
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content ?? new StringContent(servedBy) };
            response.Headers.Add("X-Served-By", servedBy);
            Response.SetResult(response);
        }

        public void Fail(Exception exception) => Response.SetException(exception);
    }

    private sealed class TrackedContent : ByteArrayContent
    {
        public TrackedContent()
            : base([])
        {
        }

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
