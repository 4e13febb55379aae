using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Consul.Tests.Client;

public sealed class ConsulServiceCollectionExtensionsTests
{
    [Fact]
    public void AddHealthProxyConsulClient_ValidConfiguration_ResolvesATypedClient()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("HealthProxy:Consul:Address", "http://127.0.0.1:18500")])
            .Build();
        var services = new ServiceCollection();

        services.AddHealthProxyConsulClient(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<ConsulClient>(provider.GetRequiredService<IConsulClient>());
        Assert.Equal(new Uri("http://127.0.0.1:18500"), provider.GetRequiredService<ConsulClientOptions>().Address);
    }

    [Fact]
    public void AddHealthProxyConsulClient_BadAddress_FailsAtRegistrationNamingTheKey()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("HealthProxy:Consul:Address", "consul:8500/v1")])
            .Build();

        var error = Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddHealthProxyConsulClient(configuration));

        Assert.Contains("HealthProxy:Consul:Address", error.Message, StringComparison.Ordinal);
    }
}
