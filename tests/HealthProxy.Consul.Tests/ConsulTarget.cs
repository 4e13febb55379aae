using HealthProxy.Consul.Simulator;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Consul.Tests;

/// <summary>
/// The Consul the round-trip tests talk to: a real agent when <c>CONSUL_HTTP_ADDR</c> is set (with
/// <c>CONSUL_HTTP_TOKEN</c> when needed), otherwise a fresh <see cref="ConsulSimulator"/>.
/// </summary>
public sealed class ConsulTarget : IAsyncDisposable
{
    private ConsulTarget(ConsulClientOptions options, ConsulSimulator? simulator)
    {
        Options = options;
        Simulator = simulator;
        Client = TestClients.For(options);
    }

    public ConsulClientOptions Options { get; }

    /// <summary>The simulator, or <see langword="null"/> against a real agent.</summary>
    public ConsulSimulator? Simulator { get; }

    public ConsulClient Client { get; }

    public bool IsRealAgent => Simulator is null;

    public static async Task<ConsulTarget> CreateAsync()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ConsulClientOptions.AddressEnvironmentVariable)))
        {
            return new ConsulTarget(ConsulClientOptions.FromConfiguration(new ConfigurationBuilder().Build()), simulator: null);
        }

        var simulator = await ConsulSimulator.StartAsync();
        return new ConsulTarget(new ConsulClientOptions { Address = simulator.Address }, simulator);
    }

    /// <summary>A service name no other test (or other user of a real agent) uses.</summary>
    public static string UniqueName(string prefix) => $"hp-test-{prefix}-{Guid.NewGuid():N}"[..40];

    public async ValueTask DisposeAsync()
    {
        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }
    }
}
