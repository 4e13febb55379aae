using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using HealthProxy.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Testing.Gateway;

/// <summary>
/// One backend instance on Kestrel (a real loopback socket, port 0) whose faults a test switches at run time:
/// normal, hung, slow, failing with a status code; a published health state served on <see cref="HealthPath"/>;
/// killed (listener closed, open connections aborted) and restarted on the same port. Built for load: it
/// keeps counters, never a log, so its memory stays bounded however long it runs.
/// </summary>
/// <remarks>
/// Every proxied (non-health) request is counted by method and by the state the instance was publishing when
/// it arrived. A request that arrives when that state has been published for longer than the state's grace
/// (<see cref="SetGrace"/>: how long the gateway may take to learn of it) is also counted as late. Threading:
/// counters are updated with <see cref="Interlocked"/>; the fault and the published state are immutable
/// snapshots swapped whole, so a request sees one consistent pair.
/// </remarks>
public sealed class FaultyBackend : IAsyncDisposable
{
    public const string HealthPath = "/health";

    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OTHER"];
    private static readonly int StateCount = Enum.GetValues<HealthState>().Length;

    private readonly TimeSpan _normalLatency;
    private readonly ConcurrentDictionary<HttpContext, byte> _inFlight = new();
    private readonly long[] _received = new long[Methods.Length * StateCount];
    private readonly long[] _late = new long[Methods.Length * StateCount];
    private readonly long[] _killed = new long[Methods.Length];
    private readonly long[] _graceTicks = new long[StateCount];
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private volatile Fault _fault = Fault.None;
    private volatile Published _published;
    private WebApplication? _app;
    private long _probes;
    private long _lastReceipt;
    private long _mark;
    private long _firstAfterMark;
    private long _intermittent;

    private FaultyBackend(string name, TimeSpan normalLatency)
    {
        Name = name;
        _normalLatency = normalLatency;
        _published = new Published(HealthState.Healthy, Stopwatch.GetTimestamp());
        Array.Fill(_graceTicks, long.MaxValue);
    }

    /// <summary>What a proxied request meets.</summary>
    public enum FaultMode
    {
        /// <summary>Answers 200 with its name after the normal latency.</summary>
        Normal,

        /// <summary>Reads the request and never answers (health included), until the caller gives up or it is killed.</summary>
        Hung,

        /// <summary>Answers as normal (health included) after a longer delay.</summary>
        Slow,

        /// <summary>Answers proxied requests with an error status; its health endpoint still says what is published.</summary>
        Error,

        /// <summary>Answers every other proxied request with an error status and the rest as normal (never two failures in a row).</summary>
        Intermittent,

        /// <summary>Reads proxied requests and never answers them, while its health endpoint still answers (a shallow health check).</summary>
        HungRequests,
    }

    public string Name { get; }

    /// <summary>The port, the same across a kill and a restart.</summary>
    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>Whether the listener is open.</summary>
    public bool IsRunning => Volatile.Read(ref _app) is not null;

    public FaultMode Mode => _fault.Mode;

    /// <summary>The state this instance publishes now.</summary>
    public HealthState PublishedState => _published.State;

    /// <summary>Health probes received.</summary>
    public long ProbesReceived => Interlocked.Read(ref _probes);

    /// <summary>When (a <see cref="Stopwatch"/> timestamp) the last proxied request arrived; 0 if none has.</summary>
    public long LastReceipt => Interlocked.Read(ref _lastReceipt);

    /// <summary>Starts a backend on a free loopback port; proxied requests take <paramref name="normalLatency"/> to answer.</summary>
    public static async Task<FaultyBackend> StartAsync(string name, TimeSpan? normalLatency = null)
    {
        var backend = new FaultyBackend(name, normalLatency ?? TimeSpan.Zero);
        await backend.ListenAsync(0).ConfigureAwait(false);
        return backend;
    }

    /// <summary>Back to normal answers. An instance that was hung publishes healthy again (it can answer its probes).</summary>
    public void Recover()
    {
        var wasHung = _fault.Mode == FaultMode.Hung;
        _fault = Fault.None;
        if (wasHung)
        {
            SetHealth(HealthState.Healthy);
        }
    }

    /// <summary>
    /// Every request from now on is read and never answered. The instance counts as publishing
    /// <see cref="HealthState.Unhealthy"/> from now: its probes can only time out.
    /// </summary>
    public void Hang()
    {
        _fault = new Fault(FaultMode.Hung, TimeSpan.Zero, 0);
        SetHealth(HealthState.Unhealthy);
    }

    /// <summary>Every request (health included) answers after <paramref name="latency"/> instead of the normal latency.</summary>
    public void Slow(TimeSpan latency) => _fault = new Fault(FaultMode.Slow, latency, 0);

    /// <summary>Proxied requests answer <paramref name="status"/>; the health endpoint is untouched (a shallow health check).</summary>
    public void FailWith(int status) => _fault = new Fault(FaultMode.Error, TimeSpan.Zero, status);

    /// <summary>Proxied requests are read and never answered; the health endpoint keeps answering what is published.</summary>
    public void HangRequests() => _fault = new Fault(FaultMode.HungRequests, TimeSpan.Zero, 0);

    /// <summary>Every other proxied request answers <paramref name="status"/>, the others succeed; the health endpoint is untouched.</summary>
    public void FailEveryOther(int status) => _fault = new Fault(FaultMode.Intermittent, TimeSpan.Zero, status);

    /// <summary>
    /// The state the health endpoint publishes from now on: 200 for healthy and degraded, 503 otherwise, with the
    /// status document <c>{"status":"..."}</c>.
    /// </summary>
    public void SetHealth(HealthState state)
    {
        if (_published.State != state)
        {
            _published = new Published(state, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>
    /// How long after this instance starts publishing <paramref name="state"/> the gateway may still send it
    /// requests without knowing; a request later than that counts in <see cref="Late"/>. Default: never late.
    /// </summary>
    public void SetGrace(HealthState state, TimeSpan grace) =>
        Interlocked.Exchange(ref _graceTicks[(int)state], (long)(grace.TotalSeconds * Stopwatch.Frequency));

    /// <summary>Proxied requests received with <paramref name="method"/>, whatever the published state.</summary>
    public long Received(string method)
    {
        long total = 0;
        for (var s = 0; s < StateCount; s++)
        {
            total += Received(method, (HealthState)s);
        }

        return total;
    }

    /// <summary>Proxied requests received with <paramref name="method"/> while publishing <paramref name="state"/>.</summary>
    public long Received(string method, HealthState state) => Interlocked.Read(ref _received[Slot(method, state)]);

    /// <summary>Of those, the ones that arrived after the state's grace: the gateway should have known.</summary>
    public long Late(string method, HealthState state) => Interlocked.Read(ref _late[Slot(method, state)]);

    /// <summary>Proxied requests with <paramref name="method"/> that were open (received, not answered) when the instance was killed.</summary>
    public long AbortedByKill(string method) => Interlocked.Read(ref _killed[Slot(method, 0) / StateCount]);

    /// <summary>Proxied requests of any method.</summary>
    public long ReceivedAll() => Methods.Sum(Received);

    /// <summary>Starts a new stretch for <see cref="FirstReceiptAfterMark"/>.</summary>
    public void Mark()
    {
        Interlocked.Exchange(ref _firstAfterMark, 0);
        Interlocked.Exchange(ref _mark, Stopwatch.GetTimestamp());
    }

    /// <summary>How long after the last <see cref="Mark"/> the first proxied request arrived; null while none has.</summary>
    public TimeSpan? FirstReceiptAfterMark()
    {
        var first = Interlocked.Read(ref _firstAfterMark);
        return first == 0 ? null : Stopwatch.GetElapsedTime(Interlocked.Read(ref _mark), first);
    }

    /// <summary>Closes the listener and aborts every open connection, as a crashed process would.</summary>
    public async Task KillAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            var app = Interlocked.Exchange(ref _app, null);
            if (app is null)
            {
                return;
            }

            foreach (var context in _inFlight.Keys)
            {
                if (context.Request.Path != HealthPath)
                {
                    Interlocked.Increment(ref _killed[Slot(context.Request.Method, 0) / StateCount]);
                }

                context.Abort();
            }

            // A cancelled token makes Kestrel abort what is left at once instead of draining it.
            using var now = new CancellationTokenSource();
            await now.CancelAsync().ConfigureAwait(false);
            await app.StopAsync(now.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port, answering normally and publishing <paramref name="state"/> (a real restart publishes starting first).</summary>
    public async Task RestartAsync(HealthState state = HealthState.Healthy)
    {
        _fault = Fault.None;
        SetHealth(state);
        await ListenAsync(Port).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _lifecycle.Dispose();
    }

    private static int Slot(string method, HealthState state)
    {
        var index = Array.IndexOf(Methods, method.ToUpperInvariant());
        return ((index < 0 ? Methods.Length - 1 : index) * StateCount) + (int)state;
    }

    private async Task ListenAsync(int port)
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_app is not null)
            {
                return;
            }

            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
            var app = builder.Build();
            app.Run(ServeAsync);
            await app.StartAsync().ConfigureAwait(false);
            Port = new Uri(app.Urls.First()).Port;
            Volatile.Write(ref _app, app);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        _inFlight.TryAdd(context, 0);
        try
        {
            var fault = _fault;
            if (context.Request.Path == HealthPath)
            {
                Interlocked.Increment(ref _probes);
                await ServeHealthAsync(context, fault).ConfigureAwait(false);
                return;
            }

            Record(context.Request.Method);
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted).ConfigureAwait(false);
            switch (fault.Mode)
            {
                case FaultMode.Hung or FaultMode.HungRequests:
                    await HangAsync(context).ConfigureAwait(false);
                    return;
                case FaultMode.Error:
                case FaultMode.Intermittent when Interlocked.Increment(ref _intermittent) % 2 == 1:
                    await WaitAsync(_normalLatency, context).ConfigureAwait(false);
                    await AnswerAsync(context, fault.Status, $"{Name} failed").ConfigureAwait(false);
                    return;
                default:
                    await WaitAsync(fault.Mode == FaultMode.Slow ? fault.Latency : _normalLatency, context).ConfigureAwait(false);
                    await AnswerAsync(context, StatusCodes.Status200OK, Name).ConfigureAwait(false);
                    return;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller gave up, or the instance was killed.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection went away mid-body.
        }
        finally
        {
            _inFlight.TryRemove(context, out _);
        }
    }

    private async Task ServeHealthAsync(HttpContext context, Fault fault)
    {
        switch (fault.Mode)
        {
            case FaultMode.Hung:
                await HangAsync(context).ConfigureAwait(false);
                return;
            case FaultMode.Slow:
                await WaitAsync(fault.Latency, context).ConfigureAwait(false);
                break;
        }

        var state = _published.State;
        var status = state is HealthState.Healthy or HealthState.Degraded ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        await AnswerAsync(context, status, $"{{\"status\":\"{state.ToWireName()}\"}}").ConfigureAwait(false);
    }

    private void Record(string method)
    {
        var now = Stopwatch.GetTimestamp();
        var published = _published;
        var slot = Slot(method, published.State);
        Interlocked.Increment(ref _received[slot]);
        if (now - published.Since > Interlocked.Read(ref _graceTicks[(int)published.State]))
        {
            Interlocked.Increment(ref _late[slot]);
        }

        Interlocked.Exchange(ref _lastReceipt, now);
        if (Interlocked.Read(ref _firstAfterMark) == 0 && Interlocked.Read(ref _mark) is var mark && mark != 0 && now >= mark)
        {
            Interlocked.CompareExchange(ref _firstAfterMark, now, 0);
        }
    }

    private static async Task HangAsync(HttpContext context)
    {
        // Never answers: the wait ends only when the caller gives up or the instance is killed.
        await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WaitAsync(TimeSpan latency, HttpContext context) =>
        latency > TimeSpan.Zero ? Task.Delay(latency, context.RequestAborted) : Task.CompletedTask;

    private Task AnswerAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["X-Served-By"] = Name;
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    private sealed record Fault(FaultMode Mode, TimeSpan Latency, int Status)
    {
        public static readonly Fault None = new(FaultMode.Normal, TimeSpan.Zero, 0);
    }

    private sealed record Published(HealthState State, long Since);
}
