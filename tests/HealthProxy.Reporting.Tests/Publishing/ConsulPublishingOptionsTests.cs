using HealthProxy.Reporting.Publishing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Tests.Publishing;

public sealed class ConsulPublishingOptionsTests
{
    [Fact]
    public void PublishToConsul_BindsSectionAndDefaultsServiceName()
    {
        using var services = Build(new()
        {
            ["HealthProxy:Publishing:ServiceId"] = "orders-7",
            ["HealthProxy:Publishing:Port"] = "8080",
            ["HealthProxy:Publishing:Tags:0"] = "v2",
            ["HealthProxy:Publishing:Meta:version"] = "2",
            ["HealthProxy:Publishing:Category"] = "checkout",
            ["HealthProxy:Publishing:Ttl"] = "00:00:30",
            ["HealthProxy:Publishing:Jitter"] = "0.2",
        });

        var options = services.GetRequiredService<IOptions<ConsulPublishingOptions>>().Value;

        Assert.Equal((TestServiceHost.ServiceName, "orders-7", 8080, "checkout"), (options.ServiceName, options.ServiceId, options.Port, options.Category));
        Assert.Equal(["v2"], options.Tags);
        Assert.Equal("2", options.Meta["version"]);
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), 0.2), (options.Ttl, options.EffectiveUpdateInterval, options.Jitter));
        Assert.Equal(TimeSpan.FromMinutes(5), options.DeregisterCriticalServiceAfter);
    }

    [Theory]
    [InlineData("Ttl", "00:00:00.500", "HealthProxy:Publishing:Ttl")]
    [InlineData("UpdateInterval", "00:00:15", "HealthProxy:Publishing:UpdateInterval")]
    [InlineData("Jitter", "0.9", "HealthProxy:Publishing:Jitter")]
    [InlineData("DeregisterCriticalServiceAfter", "00:00:30", "HealthProxy:Publishing:DeregisterCriticalServiceAfter")]
    [InlineData("Port", "70000", "HealthProxy:Publishing:Port")]
    [InlineData("ServiceId", "orders/1", "HealthProxy:Publishing:ServiceId")]
    [InlineData("Meta:consul-x", "y", "HealthProxy:Publishing:Meta:consul-x")]
    [InlineData("MaxRetryDelay", "00:00:00.100", "HealthProxy:Publishing:MaxRetryDelay")]
    public void PublishToConsul_BadValue_FailsNamingTheKey(string key, string value, string named)
    {
        using var services = Build(new() { ["HealthProxy:Publishing:" + key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ConsulPublishingOptions>>().Value);

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublishToConsul_BadConsulAddress_ThrowsAtRegistration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["HealthProxy:Consul:Address"] = "ftp://consul" }).Build();

        var error = Assert.Throws<OptionsValidationException>(() => new ServiceCollection().AddServiceHealth().PublishToConsul(configuration));

        Assert.Contains("HealthProxy:Consul:Address", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> values)
    {
        values["HealthProxy:Consul:Address"] = "http://127.0.0.1:8500";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return ServiceChecks.Build((checks, _) => checks.PublishToConsul(configuration));
    }
}
