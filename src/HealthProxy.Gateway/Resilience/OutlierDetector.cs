using System.Collections.Concurrent;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// One Polly circuit breaker per destination, kept in a <see cref="ResiliencePipelineRegistry{TKey}"/>, and
/// the mapping from breaker to <see cref="InstanceHealthStore"/>: an open breaker reports
/// <see cref="HealthSource.Breaker"/> unhealthy (unless the cluster's ejection cap forbids it), and when its
/// break ends the breaker's opinion is withdrawn so that the next request can be the half-open trial.
/// </summary>
/// <remarks>
/// Polly moves an open breaker to half-open lazily, on the next execution; an ejected destination gets no
/// executions, so a timer (on the injected <see cref="TimeProvider"/>) ends the ejection instead. The trial's
/// success closes the breaker (nothing to report: the opinion is already withdrawn); its failure opens it
/// again for a longer break, which ejects the destination again. The store stays the only routing truth.
/// An ejection also ends early when the destination's probe, having seen it unhealthy, sees it back (as Envoy's
/// <c>successful_active_health_check_uneject_host</c>): an instance that crashed and restarted returns on its
/// probe, not a whole break later. A probe that never saw it down (a shallow health check beside failing
/// requests) ends nothing.
/// Threading: breakers are Polly's; the per-cluster ejected set is guarded by <see cref="ClusterPolicy.Sync"/>;
/// each destination's <see cref="BreakerState"/> is read lock-free by requests and written by its breaker's
/// callbacks and builds; cluster changes come from YARP's config thread.
/// </remarks>
internal sealed partial class OutlierDetector : IClusterChangeListener, IDisposable
{
    private readonly ResiliencePipelineRegistry<DestinationKey> _registry = new();
    private readonly ConcurrentDictionary<string, ClusterPolicy> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<DestinationKey, ITimer> _breaks = new();
    private readonly ConcurrentDictionary<DestinationKey, BreakerState> _states = new();
    private readonly ConcurrentDictionary<DestinationKey, CircuitBreakerManualControl> _controls = new();
    private readonly Action<ResiliencePipelineBuilder<AttemptOutcome>, ConfigureBuilderContext<DestinationKey>> _configure;
    private readonly OutlierDetectionOptions _defaults;
    private readonly RetryOptions _retries;
    private readonly InstanceHealthStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<OutlierDetector> _logger;
    private CancellationTokenSource _policyAdded = new();

    public OutlierDetector(
        IOptions<OutlierDetectionOptions> defaults,
        IOptions<RetryOptions> retries,
        InstanceHealthStore store,
        TimeProvider timeProvider,
        GatewayMetrics metrics,
        ILogger<OutlierDetector> logger)
    {
        _defaults = defaults.Value;
        _retries = retries.Value;
        _store = store;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
        _configure = Configure;
        _store.ProbeRecovered += OnProbeRecovered;
    }

    /// <summary>The cluster's settings and shared state; false for a cluster YARP has not announced.</summary>
    public bool TryGetPolicy(string clusterId, out ClusterPolicy policy) => _clusters.TryGetValue(clusterId, out policy!);

    /// <summary>The destination's breaker, created on first use.</summary>
    public ResiliencePipeline<AttemptOutcome> Breaker(DestinationKey key) => _registry.GetOrAddPipeline(key, _configure);

    /// <summary>
    /// What the request path reads of the breaker of <paramref name="key"/>; null until <see cref="Breaker"/> first built it.
    /// </summary>
    /// <remarks>
    /// Kept from the breaker's own OnOpened/OnClosed callbacks rather than a <see cref="CircuitBreakerStateProvider"/>:
    /// concurrent first requests can make the registry build a pipeline twice and keep one, and a provider of the
    /// discarded one answers from a disposed breaker (ObjectDisposedException on every request; seen under wrk).
    /// </remarks>
    public BreakerState? State(DestinationKey key) => _states.GetValueOrDefault(key);

    /// <summary>
    /// Whether the breaker of <paramref name="key"/> is closed, or there is none yet: then a request needs no
    /// permission from it, only to <see cref="ReportAsync">report</see> its outcome afterwards.
    /// </summary>
    public bool IsClosed(DestinationKey key) => IsClosed(State(key));

    /// <summary>Whether a request past a breaker in <paramref name="state"/> (null: not built yet) needs no permission from it.</summary>
    public static bool IsClosed(BreakerState? state) => state?.IsClosed ?? true;

    /// <summary>Reports the outcome of a request that the closed breaker of <paramref name="key"/> let through.</summary>
    /// <remarks>
    /// In consecutive mode the run of failures is counted here, and Polly hears of a run only once it reaches n:
    /// the n-th failure in a row is reported twice, the two outcomes its minimum throughput needs, so it trips
    /// then whatever else the destination serves and however long the run took; successes and shorter runs
    /// never reach it.
    /// (Told of every outcome, with failures below the threshold as successes, Polly judged the n-th failure
    /// against the whole window: one failure beside 1,000 or more outcomes was below the smallest ratio a
    /// breaker trips at, and a busy destination was ejected late.) In ratio mode every outcome runs through
    /// the pipeline, in an execution whose callback completes at once, so every layer completes synchronously
    /// and allocates nothing; holding an execution open across the proxied call cost an async frame per layer.
    /// </remarks>
    public ValueTask ReportAsync(DestinationKey key, BreakerState? state, AttemptOutcome outcome, CancellationToken cancellationToken)
    {
        if (state is null)
        {
            _ = Breaker(key);   // the destination's first request: building its breaker makes its state
            state = State(key);
        }

        if (state?.Streak is not { } streak)
        {
            return ExecuteReportAsync(Breaker(key), outcome, cancellationToken);
        }

        if (outcome == AttemptOutcome.Success)
        {
            streak.End();
            return default;
        }

        var run = streak.Fail();
        return run < streak.Threshold ? default
            : run == streak.Threshold ? ExecuteTripAsync(Breaker(key), cancellationToken)
            : ExecuteReportAsync(Breaker(key), AttemptOutcome.Failure, cancellationToken);
    }

    public void OnClusterAdded(ClusterState cluster) => Sync(cluster);

    public void OnClusterChanged(ClusterState cluster) => Sync(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
        if (_clusters.TryRemove(cluster.ClusterId, out var policy))
        {
            policy.Retire();
        }

        foreach (var key in _controls.Keys.Where(k => k.ClusterId == cluster.ClusterId))
        {
            _controls.TryRemove(key, out _);
        }

        foreach (var key in _states.Keys.Where(k => k.ClusterId == cluster.ClusterId))
        {
            _states.TryRemove(key, out _);
        }
    }

    public void Dispose()
    {
        _store.ProbeRecovered -= OnProbeRecovered;
        foreach (var timer in _breaks.Values)
        {
            timer.Dispose();
        }

        _registry.Dispose();
    }

    private void Sync(ClusterState cluster)
    {
        var config = cluster.Model.Config;
        var options = _defaults.WithOverrides(config.Metadata, $"ReverseProxy:Clusters:{cluster.ClusterId}:Metadata", []);
        var count = cluster.Destinations.Count;
        if (_clusters.TryGetValue(cluster.ClusterId, out var current) && current.Options == options)
        {
            current.DestinationCount = count;
            return;
        }

        HashSet<string>? ejected = null;
        if (current is not null)
        {
            lock (current.Sync)
            {
                ejected = new HashSet<string>(current.Ejected, StringComparer.Ordinal);
            }
        }

        var policy = new ClusterPolicy(cluster.ClusterId, options, _retries.Enabled, new RetryBudget(_retries, _timeProvider), ejected) { DestinationCount = count };
        _clusters[cluster.ClusterId] = policy;
        current?.Retire();
        if (current is null)
        {
            // Breakers built while the cluster had no policy (before it was announced, or after it was removed)
            // are rebuilt with this one. Not disposed: the registry may still register on its token.
            Interlocked.Exchange(ref _policyAdded, new CancellationTokenSource()).Cancel();
        }
    }

    private void Configure(ResiliencePipelineBuilder<AttemptOutcome> builder, ConfigureBuilderContext<DestinationKey> context)
    {
        var key = context.PipelineKey;
        var policyAdded = Volatile.Read(ref _policyAdded).Token;   // read first: a policy added after the lookup cancels it
        if (!_clusters.TryGetValue(key.ClusterId, out var policy))
        {
            context.AddReloadToken(policyAdded);
            return;
        }

        context.AddReloadToken(policy.Reload);
        var options = policy.Options;
        var state = _states.GetOrAdd(key, static _ => new BreakerState());
        state.Rebuilt(policy);
        if (!options.Enabled)
        {
            return;
        }

        var control = new CircuitBreakerManualControl();
        builder.TimeProvider = _timeProvider;
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptOutcome>
        {
            // Ratio mode is Polly's own. Consecutive mode: ReportAsync counts the run and tells Polly "failure" only
            // from the n-th in a row on, and the breaker trips on it (any ratio above zero will do).
            FailureRatio = options.FailureRatio ?? 0.001,
            MinimumThroughput = options.FailureRatio is null ? 2 : options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            BreakDurationGenerator = args => ValueTask.FromResult(BreakFor(options, args.HalfOpenAttempts)),
            ManualControl = control,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result == AttemptOutcome.Failure),
            OnOpened = args =>
            {
                // Kept from the callback, not at build time: concurrent first requests can make the registry build
                // a pipeline twice and keep one, and only the kept one's callbacks ever run.
                state.Opened();
                _controls[key] = control;
                if (!args.IsManual)
                {
                    OnOpened(key, control, args.BreakDuration);
                }

                return default;
            },
            OnClosed = args =>
            {
                state.Closed();
                if (!args.IsManual)
                {
                    LogClosed(key.ClusterId, key.DestinationId);
                }

                return default;
            },
        });
    }

    /// <summary>Reports the failure that ends a run twice: Polly trips at two outcomes at the least.</summary>
    private static async ValueTask ExecuteTripAsync(ResiliencePipeline<AttemptOutcome> breaker, CancellationToken cancellationToken)
    {
        await ExecuteReportAsync(breaker, AttemptOutcome.Failure, cancellationToken).ConfigureAwait(false);
        await ExecuteReportAsync(breaker, AttemptOutcome.Failure, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask ExecuteReportAsync(ResiliencePipeline<AttemptOutcome> breaker, AttemptOutcome outcome, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            // Opened meanwhile by other requests: Polly rejects the report, and there is nothing left to count.
            _ = await breaker.ExecuteOutcomeAsync(
                static (_, outcome) => new ValueTask<Outcome<AttemptOutcome>>(Outcome.FromResult(outcome)),
                context,
                outcome).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The n-th ejection in a row lasts n breaks, up to the cap.</summary>
    internal static TimeSpan BreakFor(OutlierDetectionOptions options, int halfOpenAttempts)
    {
        var multiple = options.BreakDuration * (halfOpenAttempts + 1);
        return multiple < options.MaxBreakDuration ? multiple : options.MaxBreakDuration;
    }

    private void OnOpened(DestinationKey key, CircuitBreakerManualControl control, TimeSpan breakDuration)
    {
        if (!_clusters.TryGetValue(key.ClusterId, out var policy))
        {
            return;
        }

        int ejected;
        bool allowed;
        lock (policy.Sync)
        {
            allowed = policy.Ejected.Contains(key.DestinationId) || policy.MayEject_NeedsLock();
            if (allowed)
            {
                policy.Ejected.Add(key.DestinationId);
            }

            ejected = policy.Ejected.Count;
        }

        if (!allowed)
        {
            // Overruled: the destination keeps serving and its breaker starts counting again.
            LogEjectionRefused(key.ClusterId, key.DestinationId, ejected, policy.DestinationCount, policy.Options.MaxEjectionPercent);
            _metrics.EjectionRefused(key.ClusterId);
            _ = control.CloseAsync(CancellationToken.None);
            return;
        }

        _metrics.Ejection(key.ClusterId);
        LogEjected(key.ClusterId, key.DestinationId, breakDuration);
        _store.Report(key.ClusterId, key.DestinationId, HealthSource.Breaker, HealthState.Unhealthy);
        var timer = _timeProvider.CreateTimer(static state => ((BreakEnd)state!).Fire(), new BreakEnd(this, policy, key), breakDuration, Timeout.InfiniteTimeSpan);
        if (_breaks.TryGetValue(key, out var previous))
        {
            previous.Dispose();
        }

        _breaks[key] = timer;
    }

    private void OnProbeRecovered(string clusterId, string destinationId)
    {
        var key = new DestinationKey(clusterId, destinationId);
        if (!_clusters.TryGetValue(clusterId, out var policy) || !_controls.TryGetValue(key, out var control))
        {
            return;
        }

        lock (policy.Sync)
        {
            if (!policy.Ejected.Contains(destinationId))
            {
                return;
            }
        }

        LogEndedByProbe(clusterId, destinationId);
        _ = CloseThenEndBreakAsync(policy, key, control);
    }

    private async Task CloseThenEndBreakAsync(ClusterPolicy policy, DestinationKey key, CircuitBreakerManualControl control)
    {
        try
        {
            // Closed first, so the requests that the withdrawn opinion lets in are not turned away as open-circuit.
            await control.CloseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            // The breaker was rebuilt or disposed meanwhile; its successor starts closed.
        }

        EndBreak(policy, key, trialDue: false);
    }

    private void EndBreak(ClusterPolicy policy, DestinationKey key, bool trialDue)
    {
        if (_breaks.TryRemove(key, out var timer))
        {
            timer.Dispose();
        }

        lock (policy.Sync)
        {
            policy.Ejected.Remove(key.DestinationId);
        }

        if (trialDue)
        {
            LogTrialDue(key.ClusterId, key.DestinationId);
        }

        _store.Report(key.ClusterId, key.DestinationId, HealthSource.Breaker, null);
    }

    [LoggerMessage(EventId = GatewayEventIds.OutlierEjected, Level = LogLevel.Error,
        Message = "Instance {ClusterId}/{DestinationId} ejected by its circuit breaker for {BreakDuration}.")]
    private partial void LogEjected(string clusterId, string destinationId, TimeSpan breakDuration);

    [LoggerMessage(EventId = GatewayEventIds.OutlierEjectionRefused, Level = LogLevel.Warning,
        Message = "Instance {ClusterId}/{DestinationId} tripped its circuit breaker but stays in service: {Ejected} of {Count} instances are ejected already and at most {MaxPercent}% may be.")]
    private partial void LogEjectionRefused(string clusterId, string destinationId, int ejected, int count, int maxPercent);

    [LoggerMessage(EventId = GatewayEventIds.OutlierTrialDue, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId}'s ejection ended; its next request is the half-open trial.")]
    private partial void LogTrialDue(string clusterId, string destinationId);

    [LoggerMessage(EventId = GatewayEventIds.OutlierReturned, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId} passed its trial and is back in service; its circuit breaker is closed.")]
    private partial void LogClosed(string clusterId, string destinationId);

    [LoggerMessage(EventId = GatewayEventIds.OutlierEndedByProbe, Level = LogLevel.Information,
        Message = "Instance {ClusterId}/{DestinationId}'s probe saw it come back; its ejection ends now and its circuit breaker is closed.")]
    private partial void LogEndedByProbe(string clusterId, string destinationId);

    private sealed class BreakEnd(OutlierDetector detector, ClusterPolicy policy, DestinationKey key)
    {
        public void Fire() => detector.EndBreak(policy, key, trialDue: true);
    }
}
