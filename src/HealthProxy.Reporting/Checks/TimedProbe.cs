using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting.Checks;

/// <summary>
/// Runs one probe under its own timeout and turns every way it can end into a health result.
/// </summary>
/// <remarks>
/// The timeout is a <see cref="CancellationTokenSource"/> on the injected <see cref="TimeProvider"/>, linked with
/// the caller's token. The probe gets the linked token, and its task is awaited with
/// <see cref="Task.WaitAsync(CancellationToken)"/>, so a client that ignores cancellation (StackExchange.Redis) or
/// takes long to honour it (Npgsql sends a cancel request) still yields a failure <em>at</em> the timeout; the
/// abandoned task's fault is observed. The caller's cancellation propagates as
/// <see cref="OperationCanceledException"/>. Results carry a fixed description, never exception text.
/// </remarks>
internal static class TimedProbe
{
    /// <summary>A probe: <see langword="null"/> when the dependency works, otherwise why it does not.</summary>
    public delegate Task<string?> Probe(CancellationToken cancellationToken);

    public static async Task<HealthCheckResult> RunAsync(
        HealthCheckContext context,
        TimeSpan timeout,
        TimeProvider time,
        ILogger logger,
        Probe probe,
        CancellationToken cancellationToken)
    {
        var name = context.Registration.Name;
        var failureStatus = context.Registration.FailureStatus;
        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        Task<string?>? running = null;
        try
        {
            running = probe(linked.Token);
            var failure = await running.WaitAsync(linked.Token).ConfigureAwait(false);
            if (failure is null)
            {
                return HealthCheckResult.Healthy();
            }

            ReportingLog.DeepCheckFailed(logger, name, failure);
            return new HealthCheckResult(failureStatus, failure);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(running);
            throw;
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested)
        {
            Observe(running);
            ReportingLog.DeepCheckTimedOut(logger, name, timeout.TotalMilliseconds);
            return new HealthCheckResult(failureStatus, $"Timed out after {timeout.TotalMilliseconds:0} ms.");
        }
#pragma warning disable CA1031 // Any failure of the dependency is the check's result; the details go to the log only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportingLog.DeepCheckThrew(logger, name, ex);
            return new HealthCheckResult(failureStatus, "The check failed; the service's log has the details.");
        }
    }

    private static void Observe(Task? abandoned) =>
        abandoned?.ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
