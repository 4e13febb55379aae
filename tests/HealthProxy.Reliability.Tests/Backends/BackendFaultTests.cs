using System.Globalization;
using HealthProxy.Health;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>
/// Issue 10, section 1: one of three instances breaks while reads and writes flow through the gateway. Each
/// scenario reports failed client requests by kind against what it expects, how long traffic took to leave the
/// instance and to return, and (counted at the backends) requests that reached an instance the gateway should
/// have known was not fit for them, which must be none.
/// </summary>
/// <remarks>
/// Expected failures, and why: a killed instance loses the writes it had in flight (they were sent; replaying a
/// write could apply it twice) while reads are retried and refused connections are retried for both kinds; a hung
/// instance fails exactly the writes it swallowed before the probes caught it (each after the activity timeout),
/// reads are retried; an instance answering 500 fails the requests its breaker needs to trip, plus one trial per
/// ejection and those in flight (500 is not retried: unlike 502-504 it says the request itself was processed);
/// an instance failing every other request fails (at most) the writes it received until its failure ratio ejects
/// it, reads are retried; slow, flapping, degraded and draining instances still answer, so nothing fails.
/// </remarks>
public sealed class BackendFaultTests(ITestOutputHelper output)
{
    /// <summary>
    /// A fault only passive health can see (the victim's health check keeps passing): applies it, measures how long
    /// until reads leave the victim, holds it, recovers, and measures the return; stops the load.
    /// </summary>
    private static async Task<(TimeSpan? Left, TimeSpan? Returned, long WritesAtVictim)> PassiveFaultAsync(FaultRig rig, Action fault, TimeSpan leaveDeadline)
    {
        var postsBefore = rig.Victim.Received("POST");
        fault();
        var left = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), leaveDeadline);
        await FaultRig.HoldAsync(FaultLength);
        var writesAtVictim = rig.Victim.Received("POST") - postsBefore;
        rig.Victim.Mark();
        rig.Victim.Recover();
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();
        return (left, returned, writesAtVictim);
    }

    private const string Suite = "backend";

    private static readonly TimeSpan Warmup = ReliabilityMode.Pick(TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));

    private static readonly TimeSpan FaultLength = ReliabilityMode.Pick(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(30));

    private static readonly TimeSpan LeaveDeadline = (FaultRig.Grace(HealthState.Unhealthy) * 3) + TimeSpan.FromSeconds(5);

    /// <summary>The failure-ratio window (the default 5 s) and slack for a loaded machine.</summary>
    private static readonly TimeSpan FailureRatioLeaveDeadline = TimeSpan.FromSeconds(5 + 3);

    private static readonly TimeSpan ReturnDeadline = (FaultRig.BreakDuration * 4) + (FaultRig.Grace(HealthState.Unhealthy) * 2) + TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Killed_ReadsRetriedWritesInFlightLost_ReturnsOnceRestartedAndHealthy()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        await rig.Victim.KillAsync();
        var left = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), LeaveDeadline);
        await FaultRig.HoldAsync(FaultLength);

        // It comes back as a real process does: starting (no traffic may reach it), then healthy.
        await rig.Victim.RestartAsync(HealthState.Starting);
        await FaultRig.HoldAsync(FaultRig.Grace(HealthState.Starting));
        rig.Victim.Mark();
        rig.Victim.SetHealth(HealthState.Healthy);
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();

        // Only the writes it had open when it died may fail, plus one per worker for a write already on the wire
        // but not yet read (it dies with the connection, unseen by the instance).
        var aborted = rig.Victim.AbortedByKill("POST");
        Report(rig, "instance killed, restarted (starting, then healthy)", allowedReads: 0, allowedWrites: aborted + rig.Load.Workers, left, returned, $"writes open at the kill {aborted}");
    }

    [Theory]
    [InlineData("RoundRobin")]
    [InlineData("PowerOfTwoChoices")]
    public async Task Hung_ReadsRetriedOnlySwallowedWritesFail_ReturnsAfterRecovery(string loadBalancing)
    {
        // RoundRobin (the shipped appsettings.json) keeps feeding it a third of the traffic until the probes catch
        // it; YARP's default, PowerOfTwoChoices, sees its open requests pile up and mostly avoids it before that.
        await using var rig = await FaultRig.StartAsync(loadBalancing: loadBalancing);
        await FaultRig.HoldAsync(Warmup);

        rig.Victim.Hang();
        var left = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), LeaveDeadline);
        await FaultRig.HoldAsync(FaultLength);
        var swallowed = rig.Victim.Received("POST", HealthState.Unhealthy);
        rig.Victim.Mark();
        rig.Victim.Recover();
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();

        // Every write the hung instance swallowed (within the grace, or it would be a violation) times out;
        // nothing else may fail.
        Report(rig, $"instance hung ({loadBalancing})", allowedReads: 0, allowedWrites: swallowed, left, returned, $"writes swallowed {swallowed}");
    }

    [Fact]
    public async Task Slow_NothingFails_StaysInService()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        var before = rig.Victim.ReceivedAll();
        var total = rig.Load.TotalRequests;
        rig.Victim.Slow(FaultRig.NormalLatency * 10);
        await FaultRig.HoldAsync(FaultLength);
        var share = (double)(rig.Victim.ReceivedAll() - before) / Math.Max(1, rig.Load.TotalRequests - total);
        rig.Victim.Recover();
        await rig.Load.StopAsync();

        // 10x slower is still well inside every timeout: it stays in service and answers everything.
        Report(rig, "instance slow (10x latency)", allowedReads: 0, allowedWrites: 0, left: null, returned: null, string.Create(CultureInfo.InvariantCulture, $"victim's share while slow {share:P0}"), expectLeave: false, expectReturn: false);
    }

    [Fact]
    public async Task Flapping_NoWriteReachesItWhileKnownUnhealthy()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        var flips = 0;
        var excluded = 0;
        using (var flapping = new CancellationTokenSource())
        {
            var flap = FlapAsync(rig.Victim, flapping.Token);
            var watch = WatchAsync(() => rig.Routes(rig.Victim, RequestKind.Write), () => excluded++, flapping.Token);
            await FaultRig.HoldAsync(FaultLength * 1.5);
            await flapping.CancelAsync();
            flips = await flap;
            await watch;
        }

        rig.Victim.SetHealth(HealthState.Healthy);
        rig.Victim.Mark();
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();

        Report(rig, "instance flapping every 1 s", allowedReads: 0, allowedWrites: 0, left: null, returned, $"{flips} flips, gateway excluded it {excluded} times", expectLeave: false);
    }

    [Fact]
    public async Task Error500_BreakerEjectsIt_ReturnsAfterRecovery()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        rig.Victim.FailWith(500);
        var left = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), LeaveDeadline);
        await FaultRig.HoldAsync(FaultLength);
        rig.Victim.Mark();
        rig.Victim.Recover();
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();

        // The breaker needs ConsecutiveFailures in a row; requests in flight when it opens still fail, and so does
        // each half-open trial while the fault lasts. Reads and writes share that allowance.
        var trials = (int)Math.Ceiling((FaultLength + Warmup) / FaultRig.BreakDuration) + 1;
        var allowed = FaultRig.ConsecutiveFailures + (2 * rig.Load.Workers) + trials;
        Report(rig, "instance answering 500, recovers", allowedReads: allowed, allowedWrites: allowed, left, returned, $"allowance {allowed} shared", shared: true);
    }

    [Fact]
    public async Task FailingEveryOtherRequest_FailureRatioEjectsIt_ReturnsAfterRecovery()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        // Never two 503s in a row, behind a health check that still passes: only the failure ratio can eject it.
        var (left, returned, writesAtVictim) = await PassiveFaultAsync(rig, () => rig.Victim.FailEveryOther(503), LeaveDeadline);

        // Its failed reads are retried elsewhere (one per worker may meet a spent budget or a second failure); a write's
        // 503 reaches its client (the write may have been processed), so at most the writes it received while failing fail.
        Report(
            rig,
            "instance failing every other request (503), health check passing",
            allowedReads: rig.Load.Workers,
            allowedWrites: writesAtVictim,
            left,
            returned,
            $"writes it received while failing {writesAtVictim}",
            extraPassed: left <= FailureRatioLeaveDeadline);
    }

    [Fact]
    public async Task HangingOnItsRequests_HealthCheckPassing_TimeoutsEjectIt_ReturnsAfterRecovery()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        // Requests hang until the activity timeout while the health check keeps passing: only passive health sees it.
        var (left, returned, writesAtVictim) = await PassiveFaultAsync(rig, rig.Victim.HangRequests, LeaveDeadline + FaultRig.ActivityTimeout);

        // Timed-out reads are retried elsewhere; a timed-out write may have been processed, so it fails (504).
        Report(
            rig,
            "instance hanging on its requests, health check passing",
            allowedReads: rig.Load.Workers,
            allowedWrites: writesAtVictim,
            left,
            returned,
            $"writes it received while hanging {writesAtVictim}",
            extraPassed: left <= FaultRig.ActivityTimeout + FailureRatioLeaveDeadline);
    }

    [Fact]
    public async Task EjectedThenRestarted_ReturnsOnItsProbeNotAfterTheWholeBreak()
    {
        // The product's default ejection (30 s), in both versions: the point is that a restart ends it early.
        var breakDuration = TimeSpan.FromSeconds(30);
        await using var rig = await FaultRig.StartAsync(breakDuration);
        await FaultRig.HoldAsync(Warmup);

        // Its requests fail behind a health check that still passes, so only the breaker can eject it...
        rig.Victim.FailWith(500);
        var left = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), LeaveDeadline);

        // ...then it crashes, its probes see it down, and it is restarted well within the break.
        await rig.Victim.KillAsync();
        await FaultRig.HoldAsync(FaultRig.Grace(HealthState.Unhealthy));
        rig.Victim.Mark();
        await rig.Victim.RestartAsync();
        var returned = await rig.TimeUntilReturnedAsync(breakDuration / 2);
        await rig.Load.StopAsync();

        var allowed = FaultRig.ConsecutiveFailures + (2 * rig.Load.Workers);
        Report(rig, "instance ejected, then restarted within the 30 s break", allowedReads: allowed, allowedWrites: allowed, left, returned, $"allowance {allowed} shared; return deadline {breakDuration.TotalSeconds / 2:0}s", shared: true);
    }

    [Fact]
    public async Task DegradedThenDraining_WritesLeaveThenReads_NothingFails()
    {
        await using var rig = await FaultRig.StartAsync();
        await FaultRig.HoldAsync(Warmup);

        rig.Victim.SetHealth(HealthState.Degraded);
        var writesLeft = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Write), LeaveDeadline);
        await FaultRig.HoldAsync(FaultLength / 2);
        var readsWhileDegraded = rig.Victim.Received("GET", HealthState.Degraded);
        rig.Victim.SetHealth(HealthState.Draining);
        var readsLeft = await FaultRig.TimeUntilAsync(() => !rig.Routes(rig.Victim, RequestKind.Read), LeaveDeadline);
        await FaultRig.HoldAsync(FaultLength / 2);
        rig.Victim.Mark();
        rig.Victim.SetHealth(HealthState.Healthy);
        var returned = await rig.TimeUntilReturnedAsync(ReturnDeadline);
        await rig.Load.StopAsync();

        // Degraded keeps reads: it must still have served some.
        Report(
            rig,
            "instance degraded, then draining",
            allowedReads: 0,
            allowedWrites: 0,
            writesLeft,
            returned,
            $"reads left after draining {Seconds(readsLeft)}; reads served while degraded {readsWhileDegraded}",
            extraPassed: readsLeft is not null && readsWhileDegraded > 0);
    }

    private static async Task<int> FlapAsync(FaultyBackend backend, CancellationToken stop)
    {
        var flips = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                backend.SetHealth(backend.PublishedState == HealthState.Healthy ? HealthState.Unhealthy : HealthState.Healthy);
                flips++;
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Done.
        }

        return flips;
    }

    /// <summary>Samples <paramref name="routed"/> until stopped and calls <paramref name="onExcluded"/> on each true-to-false change.</summary>
    private static async Task WatchAsync(Func<bool> routed, Action onExcluded, CancellationToken stop)
    {
        var was = true;
        while (!stop.IsCancellationRequested)
        {
            var now = routed();
            if (was && !now)
            {
                onExcluded();
            }

            was = now;
            try
            {
                await Task.Delay(10, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Report(
        FaultRig rig,
        string scenario,
        long allowedReads,
        long allowedWrites,
        TimeSpan? left,
        TimeSpan? returned,
        string? extra = null,
        bool expectLeave = true,
        bool expectReturn = true,
        bool extraPassed = true,
        bool shared = false)
    {
        var load = rig.Load;
        var failedReads = load.Failures(RequestKind.Read);
        var failedWrites = load.Failures(RequestKind.Write);
        var unexpected = shared
            ? Math.Max(0, failedReads + failedWrites - allowedReads)
            : Math.Max(0, failedReads - allowedReads) + Math.Max(0, failedWrites - allowedWrites);
        var violations = rig.Violations();
        var leaveOk = !expectLeave || left is not null;
        var returnOk = !expectReturn || returned is not null;
        var allowance = shared ? $"{allowedReads} in all" : $"{allowedReads} reads, {allowedWrites} writes";
        var details = string.Join(
            "; ",
            FormattableString.Invariant($"failed reads {failedReads}/{load.Requests(RequestKind.Read)}, writes {failedWrites}/{load.Requests(RequestKind.Write)} (allowed {allowance}; {load.FailureReasons})"),
            $"traffic left {Seconds(left)}, returned {Seconds(returned)}",
            FormattableString.Invariant($"non-fit requests past grace {violations} (victim got while non-healthy: {rig.VictimNonHealthyReceipts()})"),
            FormattableString.Invariant($"grace unhealthy {FaultRig.Grace(HealthState.Unhealthy).TotalSeconds:0.0}s, declared {FaultRig.Grace(HealthState.Draining).TotalSeconds:0.0}s"),
            FormattableString.Invariant($"load ticks skipped {load.Skipped}"));
        if (extra is not null)
        {
            details += "; " + extra;
        }

        ScenarioTable.Report(output, new ScenarioResult(
            Suite,
            scenario,
            load.TotalRequests,
            unexpected,
            unexpected == 0 && violations == 0 && leaveOk && returnOk && extraPassed,
            details));
    }

    private static string Seconds(TimeSpan? span) =>
        span is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s.TotalSeconds:0.00}s") : "n/a";
}
