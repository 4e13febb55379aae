using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// A YARP config provider with no routes or clusters of its own: firing its change token makes YARP
/// reload, which runs the config filters again, which fill Consul clusters' destinations from the
/// latest snapshots. Used only when a Consul service's membership changes (or its staleness flips);
/// state changes never reload config, they go to the state store.
/// </summary>
/// <remarks>
/// Reloads coalesce. YARP asks for the config only after the token fires, and runs the filters after
/// that, so while a fired config has not been handed out yet, the reload it will cause still reads
/// every snapshot written before it: a second fire would only make YARP apply everything once more.
/// At startup the first answers of 1,000 services arrive together; without this each one was a full
/// reload of every cluster, queued behind the one before.
/// </remarks>
internal sealed class ConfigReloadSignal : IProxyConfigProvider
{
    private Config _current = new();
    private long _fired;
    private long _coalesced;

    /// <summary>Reloads that made YARP apply the config.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    /// <summary>Reloads folded into one that YARP had not picked up yet.</summary>
    public long Coalesced => Interlocked.Read(ref _coalesced);

    public IProxyConfig GetConfig()
    {
        var current = Volatile.Read(ref _current);
        current.HandOut();
        return current;
    }

    public void Reload()
    {
        while (true)
        {
            var current = Volatile.Read(ref _current);
            if (!current.HandedOut)
            {
                // Fired, or never handed out: YARP has yet to ask, and will see this change when it does.
                Interlocked.Increment(ref _coalesced);
                return;
            }

            if (Interlocked.CompareExchange(ref _current, new Config(), current) == current)
            {
                Interlocked.Increment(ref _fired);
                current.Fire();
                return;
            }
        }
    }

    // The token source lives as long as the config: YARP may still hold the token when it fires.
#pragma warning disable CA1001
    private sealed class Config : IProxyConfig
#pragma warning restore CA1001
    {
        private readonly CancellationTokenSource _cts = new();
        private volatile bool _handedOut;

        public Config()
        {
            ChangeToken = new CancellationChangeToken(_cts.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; } = [];

        public IReadOnlyList<ClusterConfig> Clusters { get; } = [];

        public IChangeToken ChangeToken { get; }

        public bool HandedOut => _handedOut;

        public void HandOut() => _handedOut = true;

        public void Fire() => _cts.Cancel();
    }
}
