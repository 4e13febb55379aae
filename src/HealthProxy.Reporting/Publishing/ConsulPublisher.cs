using System.Globalization;
using System.Net;
using System.Threading.Channels;
using HealthProxy.Consul;
using HealthProxy.Consul.Api;
using HealthProxy.Consul.Discovery;
using HealthProxy.Health;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Publishing;

/// <summary>
/// Registers the service in Consul once the host has started, keeps its TTL check current, enables maintenance
/// while draining and deregisters on shutdown. Consul being down never stops the service: it backs off and retries.
/// </summary>
/// <remarks>
/// One loop does every Consul call, so the fields below are touched by one thread at a time; lifecycle moves only
/// wake it (a channel of one) and <see cref="StopAsync"/> deregisters after the loop has ended. Each round reads the
/// status (running the checks), registers when not registered, sets maintenance when it differs from what Consul
/// was last told, then updates the TTL check. A 404 (Consul forgot the service or its check: agent restarted
/// without state, the reaper removed it) registers again in the same round.
/// </remarks>
internal sealed class ConsulPublisher : BackgroundService
{
    /// <summary>The reason sent with maintenance mode while draining.</summary>
    public const string DrainingReason = "draining";

    /// <summary>The <c>Service.Meta</c> key the gateway reads the category from.</summary>
    public const string CategoryMetaKey = ConsulInstanceMapper.CategoryMetaKey;

    private readonly IConsulClient _consul;
    private readonly IServiceLifecycle _lifecycle;
    private readonly IServiceStatusProvider _status;
    private readonly IHostApplicationLifetime _host;
    private readonly IServer? _server;
    private readonly ConsulPublishingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ConsulPublisher> _logger;
    private readonly PublishingSchedule _schedule;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private ConsulServiceRegistration? _registration;
    private bool _registered;
    private bool? _maintenance;
    private ConsulCheckStatus? _lastStatus;
    private int _failures;

    public ConsulPublisher(
        IConsulClient consul,
        IServiceLifecycle lifecycle,
        IServiceStatusProvider status,
        IHostApplicationLifetime host,
        IOptions<ConsulPublishingOptions> options,
        TimeProvider time,
        ILogger<ConsulPublisher> logger,
        IServer? server = null)
    {
        _consul = consul;
        _lifecycle = lifecycle;
        _status = status;
        _host = host;
        _server = server;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _schedule = new PublishingSchedule(_options);
    }

    /// <summary>Failed rounds in a row; zero while Consul answers.</summary>
    internal int ConsecutiveFailures => Volatile.Read(ref _failures);

    /// <summary>The registration sent (or about to be), once the host has started.</summary>
    internal ConsulServiceRegistration? Registration => Volatile.Read(ref _registration);

    /// <summary>The TTL check's ID for an instance: <c>service:&lt;id&gt;:health</c>.</summary>
    public static string CheckIdFor(string serviceId) => $"service:{serviceId}:health";

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The loop ends first, so nothing updates the check after it is gone. By now the lifecycle has drained.
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Registration is not { ID: { } serviceId })
        {
            return; // the host never started: nothing was registered
        }

        try
        {
            await _consul.DeregisterServiceAsync(serviceId, cancellationToken).ConfigureAwait(false);
            ReportingLog.ConsulDeregistered(_logger, serviceId);
        }
        catch (ConsulException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            ReportingLog.ConsulDeregistered(_logger, serviceId); // gone already
        }
        catch (Exception ex) when (ex is ConsulException || (ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            ReportingLog.ConsulDeregisterFailed(_logger, serviceId, ex.Message);
        }
    }

    public override void Dispose()
    {
        _lifecycle.StateChanged -= OnLifecycleChanged;
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _lifecycle.StateChanged += OnLifecycleChanged;
        try
        {
            await WhenHostStartedAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                var delay = await PublishRoundAsync(stoppingToken).ConfigureAwait(false);
                await WaitAsync(delay, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; StopAsync deregisters.
        }
        finally
        {
            _lifecycle.StateChanged -= OnLifecycleChanged;
        }
    }

    /// <summary>One round; returns how long to wait before the next (the interval, or the backoff after a failure).</summary>
    private async Task<TimeSpan> PublishRoundAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PublishAsync(cancellationToken).ConfigureAwait(false);
            var failures = Interlocked.Exchange(ref _failures, 0);
            if (failures > 0)
            {
                ReportingLog.ConsulPublishRecovered(_logger, failures);
            }

            return _schedule.NextUpdate();
        }
#pragma warning disable CA1031 // Nothing Consul does may stop the service; every failure is logged and retried.
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            var failures = Interlocked.Increment(ref _failures);
            var delay = _schedule.NextRetry(failures);
            var delayMs = (long)delay.TotalMilliseconds;
            if (ex is ConsulException consul)
            {
                // Expected while Consul is away: one line each, no stack trace.
                ReportingLog.ConsulPublishFailed(_logger, consul.Kind, failures, consul.Message, delayMs);
            }
            else
            {
                ReportingLog.ConsulPublishThrew(_logger, failures, delayMs, ex);
            }

            return delay;
        }
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        var document = await ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var check = PublishedCheck.For(document.Status);
        var output = CheckOutput.Write(document);
        if (!_registered)
        {
            await RegisterAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await ApplyAsync(check, output, cancellationToken).ConfigureAwait(false);
        }
        catch (ConsulException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            ReportingLog.ConsulServiceForgotten(_logger, _registration!.ID!);
            _registered = false;
            await RegisterAsync(cancellationToken).ConfigureAwait(false);
            await ApplyAsync(check, output, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<StatusDocument> ReadStatusAsync(CancellationToken cancellationToken)
    {
        StatusDocument document;
        try
        {
            document = await _status.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A broken status provider publishes unhealthy instead of stopping the publisher.
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            ReportingLog.StatusForPublishingFailed(_logger, ex);
            document = new StatusDocument { Status = HealthState.Unhealthy, Service = _options.ServiceName };
        }

        // Draining may begin while the checks run; once it has, the instance must leave the pool whatever they said.
        return _lifecycle.State >= ServiceLifecycleState.Draining && document.Status != HealthState.Draining
            ? StatusDocumentBuilder.NotServing(HealthState.Draining, _options.ServiceName!)
            : document;
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        if (_registration is null)
        {
            Volatile.Write(ref _registration, BuildRegistration());
        }

        var registration = _registration;
        await _consul.RegisterServiceAsync(registration, replaceExistingChecks: true, cancellationToken).ConfigureAwait(false);
        _registered = true;

        // Unknown until told: a previous process with this ID may have left maintenance on (it crashed while
        // draining), so the next round sets it explicitly either way.
        _maintenance = null;
        _lastStatus = null;
        ReportingLog.ConsulRegistered(_logger, registration.ID!, registration.Name, registration.Check!.CheckID!);
    }

    private async Task ApplyAsync(PublishedCheck check, string output, CancellationToken cancellationToken)
    {
        var serviceId = _registration!.ID!;
        var checkId = _registration.Check!.CheckID!;

        // Maintenance before the status when draining starts: the gateway drops the instance on either.
        if (_maintenance != check.Maintenance)
        {
            if (check.Maintenance)
            {
                await _consul.EnableServiceMaintenanceAsync(serviceId, DrainingReason, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _consul.DisableServiceMaintenanceAsync(serviceId, cancellationToken).ConfigureAwait(false);
            }

            if (_maintenance is not null || check.Maintenance)
            {
                ReportingLog.ConsulMaintenanceChanged(_logger, serviceId, check.Maintenance);
            }

            _maintenance = check.Maintenance;
        }

        await _consul.UpdateTtlCheckAsync(checkId, check.Status, output, cancellationToken).ConfigureAwait(false);
        if (_lastStatus != check.Status)
        {
            ReportingLog.ConsulCheckChanged(_logger, checkId, check.Status);
            _lastStatus = check.Status;
        }
    }

    private ConsulServiceRegistration BuildRegistration()
    {
        var name = _options.ServiceName!;
        var port = _options.Port ?? ListeningPort();
        if (port is null)
        {
            ReportingLog.ConsulNoPort(_logger, name);
        }

        var id = _options.ServiceId
            ?? string.Create(CultureInfo.InvariantCulture, $"{name}-{Environment.MachineName}{(port is { } p ? "-" + p.ToString(CultureInfo.InvariantCulture) : "")}");
        var meta = new Dictionary<string, string>(_options.Meta, StringComparer.Ordinal);
        if (_options.Category is { } category)
        {
            meta[CategoryMetaKey] = category;
        }

        return new ConsulServiceRegistration
        {
            Name = name,
            ID = id,
            Tags = [.. _options.Tags],
            Address = _options.Address,
            Port = port,
            Meta = meta,
            Check = new ConsulCheckRegistration
            {
                CheckID = CheckIdFor(id),
                Name = $"{name} health",
                Notes = "TTL check kept current by HealthProxy.Reporting; its output is the service's status document.",
                TTL = _options.Ttl,
                Status = ConsulCheckStatusNames.Critical, // starting: no traffic until the first update says otherwise
                DeregisterCriticalServiceAfter = _options.DeregisterCriticalServiceAfter > TimeSpan.Zero ? _options.DeregisterCriticalServiceAfter : null,
            },
        };
    }

    private int? ListeningPort()
    {
        var addresses = _server?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.Count == 0)
        {
            return null;
        }

        var parsed = addresses.Select(BindingAddress.Parse).ToList();
        var chosen = parsed.FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttp) ?? parsed[0];
        return chosen.Port > 0 ? chosen.Port : null;
    }

    private void OnLifecycleChanged(object? sender, ServiceLifecycleChangedEventArgs change) => _wake.Writer.TryWrite(true);

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(delay, _time, waiting.Token);
        var woken = _wake.Reader.WaitToReadAsync(waiting.Token).AsTask();
        await Task.WhenAny(timer, woken).ConfigureAwait(false);
        await waiting.CancelAsync().ConfigureAwait(false);
        _wake.Reader.TryRead(out _);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task WhenHostStartedAsync(CancellationToken cancellationToken)
    {
        // Registered once the server listens, so the port is known and nobody is sent to a closed socket.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = _host.ApplicationStarted.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), started);
        await started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
