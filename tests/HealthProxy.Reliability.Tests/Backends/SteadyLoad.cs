using System.Collections.Concurrent;
using HealthProxy.Health;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>
/// A few client workers sending reads (GET) and writes (POST) to the gateway at a steady total rate, each
/// request with its own deadline. Counts outcomes by kind (never keeps a log, so a long run stays bounded).
/// </summary>
/// <remarks>
/// Open loop, as real clients are: a worker sends on every tick whether or not its earlier requests have been
/// answered, so a hung instance does not quietly throttle the load that should be exposing it. Each worker
/// keeps at most <see cref="MaxInFlightPerWorker"/> requests open; a tick beyond that is skipped and counted.
/// </remarks>
internal sealed class SteadyLoad : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly int _workers;
    private readonly TimeSpan _period;
    private readonly TimeSpan _requestTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly long[] _requests = new long[2];
    private readonly long[] _failures = new long[2];
    private readonly ConcurrentDictionary<string, long> _reasons = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _servedBy = new(StringComparer.Ordinal);
    private Task[] _running = [];
    private long _skipped;

    public SteadyLoad(Uri gateway, int workers, double ratePerSecond, TimeSpan requestTimeout)
    {
        _client = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = gateway,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _workers = workers;
        _period = TimeSpan.FromSeconds(workers / ratePerSecond);
        _requestTimeout = requestTimeout;
    }

    public const int MaxInFlightPerWorker = 64;

    public int Workers => _workers;

    /// <summary>Ticks skipped because a worker already had <see cref="MaxInFlightPerWorker"/> requests open.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public long Requests(RequestKind kind) => Interlocked.Read(ref _requests[(int)kind]);

    public long Failures(RequestKind kind) => Interlocked.Read(ref _failures[(int)kind]);

    public long TotalRequests => Requests(RequestKind.Read) + Requests(RequestKind.Write);

    /// <summary>Failures by kind and reason, e.g. <c>write HTTP 504: 3</c>.</summary>
    public string FailureReasons => _reasons.IsEmpty ? "none" : string.Join(", ", _reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}"));

    /// <summary>Successful answers per instance.</summary>
    public long ServedBy(string instance) => _servedBy.TryGetValue(instance, out var count) ? count : 0;

    public void Start() => _running = [.. Enumerable.Range(0, _workers).Select(WorkAsync)];

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private async Task WorkAsync(int worker)
    {
        // Workers start spread over one period and alternate kinds, so reads and writes interleave evenly.
        var kind = worker % 2 == 0 ? RequestKind.Read : RequestKind.Write;
        using var timer = new PeriodicTimer(_period);
        var open = new List<Task>(MaxInFlightPerWorker);
        try
        {
            await Task.Delay(_period * worker / _workers, _stop.Token);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                open.RemoveAll(t => t.IsCompleted);
                if (open.Count >= MaxInFlightPerWorker)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                open.Add(SendAsync(kind));
                kind = kind == RequestKind.Read ? RequestKind.Write : RequestKind.Read;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped; what is open still finishes (or meets its deadline).
        }

        await Task.WhenAll(open);
    }

    private async Task SendAsync(RequestKind kind)
    {
        Interlocked.Increment(ref _requests[(int)kind]);
        using var deadline = new CancellationTokenSource(_requestTimeout);
        using var request = kind == RequestKind.Read
            ? new HttpRequestMessage(HttpMethod.Get, "/items")
            : new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("{\"item\":1}") };
        string? failure;
        try
        {
            // An in-flight request finishes even when the load stops; only its own deadline cuts it.
            using var response = await _client.SendAsync(request, deadline.Token);
            await response.Content.LoadIntoBufferAsync(deadline.Token);
            failure = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
            if (failure is null && response.Headers.TryGetValues("X-Served-By", out var servedBy))
            {
                _servedBy.AddOrUpdate(servedBy.First(), 1, (_, n) => n + 1);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            failure = "client timeout";
        }
        catch (HttpRequestException ex)
        {
            failure = $"transport {ex.HttpRequestError}";
        }

        if (failure is not null)
        {
            Interlocked.Increment(ref _failures[(int)kind]);
            _reasons.AddOrUpdate($"{(kind == RequestKind.Read ? "read" : "write")} {failure}", 1, (_, n) => n + 1);
        }
    }
}
