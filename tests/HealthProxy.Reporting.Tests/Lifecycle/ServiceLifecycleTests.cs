using HealthProxy.Reporting.Lifecycle;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Reporting.Tests.Lifecycle;

public sealed class ServiceLifecycleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

    [Fact]
    public void New_IsStarting()
    {
        using var lifecycle = Create();

        Assert.Equal(ServiceLifecycleState.Starting, lifecycle.State);
    }

    [Fact]
    public void MarkReady_WhileStarting_RaisesEventAndFiresChangeToken()
    {
        using var lifecycle = Create();
        var token = lifecycle.GetChangeToken();
        var changes = new List<ServiceLifecycleChangedEventArgs>();
        lifecycle.StateChanged += (_, change) => changes.Add(change);

        Assert.True(lifecycle.MarkReady());

        Assert.Equal(ServiceLifecycleState.Ready, lifecycle.State);
        var change = Assert.Single(changes);
        Assert.Equal((ServiceLifecycleState.Starting, ServiceLifecycleState.Ready, _time.GetUtcNow()), (change.Previous, change.Current, change.ChangedAt));
        Assert.True(token.HasChanged);
        Assert.False(lifecycle.GetChangeToken().HasChanged);
    }

    [Fact]
    public void MarkReady_Twice_SecondIsIgnored()
    {
        using var lifecycle = Create();
        var changes = 0;
        lifecycle.StateChanged += (_, _) => changes++;

        Assert.True(lifecycle.MarkReady());
        Assert.False(lifecycle.MarkReady());

        Assert.Equal(1, changes);
    }

    [Fact]
    public void MarkReady_WhileDraining_StaysDraining()
    {
        using var lifecycle = Create();
        lifecycle.BeginDraining();

        Assert.False(lifecycle.MarkReady());

        Assert.Equal(ServiceLifecycleState.Draining, lifecycle.State);
    }

    [Fact]
    public void MarkStopped_AfterDraining_OnlyMovesForward()
    {
        using var lifecycle = Create();
        lifecycle.MarkReady();
        lifecycle.BeginDraining();

        Assert.True(lifecycle.MarkStopped());
        Assert.False(lifecycle.BeginDraining());

        Assert.Equal(ServiceLifecycleState.Stopped, lifecycle.State);
    }

    [Fact]
    public void BeginDraining_HandlerThrows_OtherHandlersStillRunAndStateMoves()
    {
        using var lifecycle = Create();
        var seen = ServiceLifecycleState.Starting;
        lifecycle.StateChanged += (_, _) => throw new InvalidOperationException("observer bug");
        lifecycle.StateChanged += (_, change) => seen = change.Current;

        Assert.True(lifecycle.BeginDraining());

        Assert.Equal(ServiceLifecycleState.Draining, seen);
        Assert.Equal(ServiceLifecycleState.Draining, lifecycle.State);
    }

    private ServiceLifecycle Create() => new(_time, NullLogger<ServiceLifecycle>.Instance);
}
