using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthProxy.Consul.Discovery;

/// <summary>
/// Follows one service with blocking queries and publishes an immutable <see cref="ConsulServiceSnapshot"/>
/// the moment Consul answers with something new.
/// </summary>
/// <remarks>
/// <para>
/// Index rules: the first query (and the first after any failure) sends index 0 for an immediate answer;
/// afterwards the last <c>X-Consul-Index</c>, clamped to ≥1, with <see cref="ConsulServiceWatchOptions.Wait"/>.
/// An index lower than the previous one resets to 0. A snapshot is published only when the instances
/// changed or the index moved forward past the current snapshot's, because a return is not proof of change.
/// </para>
/// <para>
/// Failures (unreachable, timeout, HTTP error, 403, malformed JSON, oversized body) never produce a snapshot:
/// <see cref="Current"/> keeps the last good one, <see cref="Status"/> turns unreachable with the error kind,
/// and the loop retries after an exponential backoff with jitter. An exception that is not the client's
/// <see cref="ConsulException"/> is logged at Error; anything escaping the loop itself restarts it after a backoff. Queries go through a token bucket so a
/// flapping service cannot turn the loop into a busy one.
/// </para>
/// <para>
/// Threading: one background loop writes; <see cref="Current"/> and <see cref="Status"/> are immutable
/// records swapped atomically, safe to read from any thread. The channels drop their oldest item when a
/// reader falls 16 behind; <see cref="Current"/> always has the newest.
/// </para>
/// </remarks>
public sealed partial class ConsulServiceWatch : IAsyncDisposable
{
    private const int ChannelCapacity = 16;

    private readonly IConsulClient _client;
    private readonly ConsulServiceWatchOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RetryBackoff _backoff;
    private readonly Channel<ConsulServiceSnapshot> _snapshots;
    private readonly Channel<ConsulWatchStatus> _statuses;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startLock = new();
    private Task? _loop;
    private volatile ConsulServiceSnapshot? _current;
    private volatile ConsulWatchStatus _status = new();

    /// <summary>Creates a watch; call <see cref="Start"/> to begin.</summary>
    /// <param name="client">The Consul client.</param>
    /// <param name="options">What to watch; validated here.</param>
    /// <param name="timeProvider">The clock for backoff, rate limiting and timestamps; <see langword="null"/> = <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; <see langword="null"/> = none.</param>
    public ConsulServiceWatch(IConsulClient client, ConsulServiceWatchOptions options, TimeProvider? timeProvider = null, ILogger<ConsulServiceWatch>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _backoff = new RetryBackoff(options.RetryBaseDelay, options.RetryMaxDelay);
        var channelOptions = new BoundedChannelOptions(ChannelCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true };
        _snapshots = Channel.CreateBounded<ConsulServiceSnapshot>(channelOptions);
        _statuses = Channel.CreateBounded<ConsulWatchStatus>(channelOptions);
    }

    /// <summary>The watched service.</summary>
    public string ServiceName => _options.ServiceName;

    /// <summary>The last good snapshot; <see langword="null"/> until Consul first answers well. Never replaced by bad data.</summary>
    public ConsulServiceSnapshot? Current => _current;

    /// <summary>Reachability and the last error.</summary>
    public ConsulWatchStatus Status => _status;

    /// <summary>Each new snapshot, written the moment Consul's answer is parsed; completes when the watch stops.</summary>
    public ChannelReader<ConsulServiceSnapshot> Snapshots => _snapshots.Reader;

    /// <summary>Each status change (a failure, a recovery); completes when the watch stops.</summary>
    public ChannelReader<ConsulWatchStatus> StatusChanges => _statuses.Reader;

    /// <summary>Starts the background loop; calling it again does nothing.</summary>
    public void Start()
    {
        lock (_startLock)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            _loop ??= Task.Run(() => RunAsync(_stopping.Token));
        }
    }

    /// <summary>Stops the loop (cancelling the query in flight) and completes the channels.</summary>
    public async Task StopAsync()
    {
        Task? loop;
        lock (_startLock)
        {
            loop = _loop;
            if (!_stopping.IsCancellationRequested)
            {
                _stopping.Cancel();
            }
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _snapshots.Writer.TryComplete();
        _statuses.Writer.TryComplete();
    }

    /// <summary>Stops the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>
    /// Runs <see cref="FollowAsync"/> until stopped. Whatever escapes it is a defect outside the calls to
    /// Consul (those are caught there): it is logged at Error with the exception and the loop starts over
    /// after a backoff, so the watch never dies silently.
    /// </summary>
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        Log.Started(_logger, _options.ServiceName, _options.Wait);
        var faults = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await FollowAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                faults++;
                var delay = _backoff.Delay(faults);
                _status = _status with { BlockingSince = null };
                Log.LoopFaulted(_logger, _options.ServiceName, delay, ex);
                try
                {
                    await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        Log.Stopped(_logger, _options.ServiceName);
    }

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        var bucket = new TokenBucket(_options.RateLimitBurst, _options.RateLimitInterval, _timeProvider);
        ulong index = 0;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await bucket.TakeAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (index > 0 && _status.IsReachable)
                {
                    // From here until it returns, the open query is Consul confirming the data.
                    _status = _status with { BlockingSince = _timeProvider.GetUtcNow(), BlockingAllowance = _options.Wait + (_options.Wait / 16) };
                }

                var answer = await _client.GetHealthServiceAsync(_options.ServiceName, Query(index), cancellationToken).ConfigureAwait(false);
                var instances = ConsulInstanceMapper.MapAll(answer.Value);
                index = Accept(answer, instances, index, failures);
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures++;
                index = 0;
                var delay = _backoff.Delay(failures);

                // The timer starts before the failure is published, so whoever reacts to the status
                // (a test advancing a fake clock) sees the backoff already running.
                var retry = Task.Delay(delay, _timeProvider, cancellationToken);
                ReportFailure(ex, failures, delay);
                await retry.ConfigureAwait(false);
            }
        }
    }

    private HealthServiceQuery Query(ulong index) => new()
    {
        Index = index,
        Wait = _options.Wait,
        Tags = _options.Tags,
        Filter = _options.Filter,
        Datacenter = _options.Datacenter,
        Consistency = _options.Consistency,
    };

    private ulong Accept(ConsulQueryResult<IReadOnlyList<Api.ConsulServiceEntry>> answer, IReadOnlyList<ConsulServiceInstance> instances, ulong sent, int failuresBefore)
    {
        var now = _timeProvider.GetUtcNow();
        var next = BlockingIndex.Next(sent, answer.Index, out var wentBackwards);
        if (wentBackwards)
        {
            Log.IndexWentBackwards(_logger, _options.ServiceName, sent, answer.Index);
        }

        var current = _current;
        if (current is null || !current.HasSameInstances(instances) || answer.Index > current.Index)
        {
            var snapshot = new ConsulServiceSnapshot(_options.ServiceName, answer.Index, instances, now, answer.KnownLeader, answer.LastContact);
            _current = snapshot;
            _snapshots.Writer.TryWrite(snapshot);
            Log.SnapshotPublished(_logger, _options.ServiceName, answer.Index, instances.Count);
        }
        else
        {
            Log.Unchanged(_logger, _options.ServiceName, answer.Index);
        }

        var previous = _status;
        var status = previous with
        {
            IsReachable = true,
            LastSuccess = now,
            LastConfirmed = now,
            BlockingSince = null,
            FailingSince = null,
            ConsecutiveFailures = 0,
            Index = next,
        };
        _status = status;
        if (!previous.IsReachable)
        {
            if (failuresBefore > 0)
            {
                Log.Recovered(_logger, _options.ServiceName, failuresBefore);
            }

            _statuses.Writer.TryWrite(status);
        }

        return next;
    }

    private void ReportFailure(Exception exception, int failures, TimeSpan retryIn)
    {
        var kind = exception is ConsulException consul ? consul.Kind : ConsulErrorKind.Unexpected;
        var now = _timeProvider.GetUtcNow();
        var previous = _status;
        var status = previous with
        {
            IsReachable = false,

            // A blocking query that stayed open confirmed the data until it failed, or until it was overdue.
            LastConfirmed = previous.ConfirmedUntil(now),
            BlockingSince = null,
            LastFailure = now,
            FailingSince = previous.FailingSince ?? now,
            LastErrorKind = kind,
            LastErrorMessage = exception.Message,
            ConsecutiveFailures = failures,
            Index = 0,
        };
        _status = status;
        _statuses.Writer.TryWrite(status);
        if (exception is ConsulException)
        {
            Log.Failed(_logger, _options.ServiceName, kind, failures, retryIn, exception);
        }
        else
        {
            // Not one of the client's failures: a defect (in a client or a handler) worth an Error.
            Log.CallFaulted(_logger, _options.ServiceName, failures, retryIn, exception);
        }
    }
}
