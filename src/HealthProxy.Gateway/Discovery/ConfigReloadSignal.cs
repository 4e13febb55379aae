using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace HealthProxy.Gateway.Discovery;

/// <summary>
/// A YARP config provider with no routes or clusters of its own: firing its change token makes YARP
/// reload, which runs the config filters again, which fill Consul clusters' destinations from the
/// latest snapshots. Used only when a Consul service's membership changes (or its staleness flips);
/// state changes never reload config, they go to the state store.
/// </summary>
internal sealed class ConfigReloadSignal : IProxyConfigProvider
{
    private volatile Config _current = new();

    public IProxyConfig GetConfig() => _current;

    public void Reload()
    {
        var previous = _current;
        _current = new Config();
        previous.Fire();
    }

    // The token source lives as long as the config: YARP may still hold the token when it fires.
#pragma warning disable CA1001
    private sealed class Config : IProxyConfig
#pragma warning restore CA1001
    {
        private readonly CancellationTokenSource _cts = new();

        public Config()
        {
            ChangeToken = new CancellationChangeToken(_cts.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; } = [];

        public IReadOnlyList<ClusterConfig> Clusters { get; } = [];

        public IChangeToken ChangeToken { get; }

        public void Fire() => _cts.Cancel();
    }
}
