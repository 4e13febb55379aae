using System.Collections.Concurrent;
using System.Text;

namespace HealthProxy.Reliability.Tests.Registry;

/// <summary>
/// Steady client traffic through the gateway: each worker alternates a read (<c>GET /items</c>) and a
/// write (<c>POST /orders</c>) at a fixed pace, and counts what failed and which instance served what.
/// </summary>
/// <remarks>A request cut short by <see cref="StopAsync"/> is not counted; anything else that is not a 2xx is a failure.</remarks>
public sealed class MixedLoad : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly Func<HttpResponseMessage, bool> _isExpectedFailure;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _failureSamples = new();
    private readonly ConcurrentQueue<LoadFailure> _failureLog = new();
    private readonly ConcurrentDictionary<string, long> _servedBy = new(StringComparer.Ordinal);
    private readonly Task[] _workers;
    private long _requests;
    private long _failures;
    private long _expectedFailures;

    /// <param name="client">Sends to the gateway (its base address set).</param>
    /// <param name="workers">Concurrent request loops.</param>
    /// <param name="pace">Each loop's interval between requests.</param>
    /// <param name="isExpectedFailure">Which non-2xx answers the scenario injected itself (counted apart); none by default.</param>
    public MixedLoad(HttpClient client, int workers, TimeSpan pace, Func<HttpResponseMessage, bool>? isExpectedFailure = null)
    {
        _client = client;
        _isExpectedFailure = isExpectedFailure ?? (_ => false);
        _workers = [.. Enumerable.Range(0, workers).Select(i => Task.Run(() => RunAsync(i % 2 == 1, pace, _stop.Token)))];
    }

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests that failed and were not expected.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Requests that failed the way the scenario injected.</summary>
    public long ExpectedFailures => Interlocked.Read(ref _expectedFailures);

    /// <summary>The first few unexpected failures, described.</summary>
    public IReadOnlyList<string> FailureSamples => [.. _failureSamples];

    /// <summary>The first 1,000 unexpected failures, when and what.</summary>
    public IReadOnlyList<LoadFailure> FailureLog => [.. _failureLog];

    /// <summary>Requests the instance named <paramref name="name"/> (its <c>X-Served-By</c>) answered.</summary>
    public long ServedBy(string name) => _servedBy.TryGetValue(name, out var count) ? count : 0;

    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(bool write, TimeSpan pace, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(pace);
        while (!stop.IsCancellationRequested)
        {
            await SendOneAsync(write, stop);
            write = !write;
            try
            {
                await timer.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendOneAsync(bool write, CancellationToken stop)
    {
        using var request = write
            ? new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("{\"item\":42}", Encoding.UTF8, "application/json") }
            : new HttpRequestMessage(HttpMethod.Get, "/items");
        try
        {
            using var response = await _client.SendAsync(request, stop);
            await response.Content.ReadAsByteArrayAsync(stop);
            Interlocked.Increment(ref _requests);
            var servedBy = response.Headers.TryGetValues("X-Served-By", out var values) ? values.First() : null;
            if (servedBy is not null)
            {
                _servedBy.AddOrUpdate(servedBy, 1, (_, n) => n + 1);
            }

            if (!response.IsSuccessStatusCode)
            {
                if (_isExpectedFailure(response))
                {
                    Interlocked.Increment(ref _expectedFailures);
                }
                else
                {
                    Fail(write, (int)response.StatusCode, $"{request.Method} {(int)response.StatusCode} from {servedBy ?? "the gateway"}");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Cut short by StopAsync: not a result.
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            Interlocked.Increment(ref _requests);
            Fail(write, null, $"{request.Method} {ex.GetType().Name}: {ex.Message}");
        }
    }

    private void Fail(bool write, int? status, string description)
    {
        var count = Interlocked.Increment(ref _failures);
        if (count <= 10)
        {
            _failureSamples.Enqueue(description);
        }

        if (count <= 1000)
        {
            _failureLog.Enqueue(new LoadFailure(System.Diagnostics.Stopwatch.GetTimestamp(), write, status, description));
        }
    }
}

/// <summary>One unexpected failure seen by <see cref="MixedLoad"/>.</summary>
/// <param name="Timestamp">A <see cref="System.Diagnostics.Stopwatch"/> timestamp taken when it was seen.</param>
/// <param name="Write">Whether it was a write (POST).</param>
/// <param name="Status">The status answered, or null when the request got no answer.</param>
/// <param name="Description">What happened, in words.</param>
public sealed record LoadFailure(long Timestamp, bool Write, int? Status, string Description);
