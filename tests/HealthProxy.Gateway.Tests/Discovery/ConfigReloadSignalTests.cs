using HealthProxy.Gateway.Discovery;

namespace HealthProxy.Gateway.Tests.Discovery;

public sealed class ConfigReloadSignalTests
{
    [Fact]
    public void Reload_fires_the_change_token_of_the_config_YARP_holds()
    {
        var signal = new ConfigReloadSignal();
        var held = signal.GetConfig();

        signal.Reload();

        Assert.True(held.ChangeToken.HasChanged);
        Assert.NotSame(held, signal.GetConfig());
        Assert.Equal(1, signal.Fired);
    }

    [Fact]
    public void Reloads_before_YARP_asks_again_fold_into_the_pending_one()
    {
        var signal = new ConfigReloadSignal();
        var held = signal.GetConfig();

        signal.Reload();
        signal.Reload();
        signal.Reload();

        Assert.True(held.ChangeToken.HasChanged);
        Assert.Equal(1, signal.Fired);
        Assert.Equal(2, signal.Coalesced);

        // YARP reloads: it asks for the config (and then runs the filters, which read the latest snapshots).
        var next = signal.GetConfig();
        Assert.False(next.ChangeToken.HasChanged);

        // A change after YARP asked needs a reload of its own.
        signal.Reload();
        Assert.True(next.ChangeToken.HasChanged);
        Assert.Equal(2, signal.Fired);
    }

    [Fact]
    public void Concurrent_reloads_after_a_hand_out_fire_exactly_once()
    {
        var signal = new ConfigReloadSignal();
        var held = signal.GetConfig();

        Parallel.For(0, 1000, _ => signal.Reload());

        Assert.True(held.ChangeToken.HasChanged);
        Assert.Equal(1, signal.Fired);
        Assert.Equal(999, signal.Coalesced);
    }
}
