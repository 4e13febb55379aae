using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Empties the server's address list when <see cref="GatewayListeners"/> binds the main addresses in code.
/// </summary>
/// <remarks>
/// The host copies <c>urls</c> (or <c>http_ports</c>/<c>https_ports</c>) into the address list before the
/// startup filters run and the server starts; Kestrel, finding listeners added in code as well, binds those
/// and warns that it is overriding the list. The code's listeners already are those addresses, so the list
/// goes and the warning with it. Kestrel fills the list with what it bound once it starts.
/// </remarks>
internal sealed class ServerAddressesStartupFilter(GatewayListeners listeners) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        if (listeners.BindsMainAddresses && app.ServerFeatures.Get<IServerAddressesFeature>() is { Addresses.IsReadOnly: false } feature)
        {
            feature.Addresses.Clear();
        }

        next(app);
    };
}
