using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Sets <c>HostOptions.ShutdownTimeout</c> to drain delay + timeout: the drain runs inside the host's shutdown
/// timeout, so the timeout must cover both phases.
/// </summary>
/// <remarks>
/// The host reads its options while it is built, before <c>MapHealthProxy</c> reports bad settings by key, so this
/// binds the section itself and leaves the default alone when the values are out of range (startup fails later
/// with the key-naming message).
/// </remarks>
internal sealed class HostShutdownTimeout(IConfiguration configuration) : IConfigureOptions<HostOptions>
{
    public void Configure(HostOptions options)
    {
        var shutdown = new ShutdownOptions();
        try
        {
            configuration.GetSection(ShutdownOptions.SectionName).Bind(shutdown);
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (new ShutdownOptionsValidator().Validate(null, shutdown).Succeeded)
        {
            options.ShutdownTimeout = shutdown.DrainDelay + shutdown.Timeout;
        }
    }
}
