using HealthProxy.Gateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Gateway.Tests.Resilience;

public sealed class FailureRatioWindowTests
{
    private static readonly OutlierDetectionOptions Options = new() { FailureRatio = 0.5, MinimumThroughput = 10, SamplingDuration = TimeSpan.FromSeconds(10) };

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Record_FailuresBelowTheMinimumThroughput_DoNotTrip()
    {
        var window = FailureRatioWindow.For(Options, _time)!;

        Assert.DoesNotContain(true, Enumerable.Range(0, 9).Select(_ => window.Record(AttemptOutcome.Failure)));
        Assert.True(window.Record(AttemptOutcome.Failure));
    }

    [Fact]
    public void Record_FailuresOlderThanTheSamplingDuration_SlideOut()
    {
        var window = FailureRatioWindow.For(Options, _time)!;
        for (var i = 0; i < 9; i++)
        {
            window.Record(AttemptOutcome.Failure);
        }

        _time.Advance(TimeSpan.FromSeconds(11));

        Assert.False(window.Record(AttemptOutcome.Failure));
    }

    [Fact]
    public void Record_RatioReachedOnlyWithinTheWindow_Trips()
    {
        var window = FailureRatioWindow.For(Options, _time)!;
        for (var i = 0; i < 20; i++)
        {
            window.Record(AttemptOutcome.Success);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Ten seconds of successes, then half fail: the ratio counts only the last ten seconds.
        var tripped = false;
        for (var i = 0; i < 40 && !tripped; i++)
        {
            tripped = window.Record(i % 2 == 0 ? AttemptOutcome.Failure : AttemptOutcome.Success);
            _time.Advance(TimeSpan.FromMilliseconds(500));
        }

        Assert.True(tripped);
    }

    [Fact]
    public void For_RatioZero_NoDetector() => Assert.Null(FailureRatioWindow.For(Options with { FailureRatio = 0 }, _time));
}
