using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HealthProxy.Consul.Tests.Client;

public sealed class ConsulClientOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void FromConfiguration_Nothing_IsTheLocalAgentOverHttp()
    {
        var options = ConsulClientOptions.FromConfiguration(Config(), Env());

        Assert.Equal(new Uri("http://127.0.0.1:8500"), options.Address);
        Assert.Null(options.Token);
        Assert.Equal(ConsulConsistency.Default, options.Consistency);
        Assert.Equal(8L * 1024 * 1024, options.MaxResponseBytes);
    }

    [Fact]
    public void FromConfiguration_EnvironmentHostPortWithoutScheme_IsHttp()
    {
        var options = ConsulClientOptions.FromConfiguration(Config(), Env(("CONSUL_HTTP_ADDR", "consul.internal:8501"), ("CONSUL_HTTP_TOKEN", "env-token")));

        Assert.Equal(new Uri("http://consul.internal:8501"), options.Address);
        Assert.Equal("env-token", options.Token);
    }

    [Fact]
    public void FromConfiguration_EnvironmentSslFlag_MakesSchemelessAddressHttps()
    {
        var options = ConsulClientOptions.FromConfiguration(Config(), Env(("CONSUL_HTTP_ADDR", "consul.internal:8501"), ("CONSUL_HTTP_SSL", "true")));

        Assert.Equal("https", options.Address.Scheme);
    }

    [Fact]
    public void FromConfiguration_ConfigKeys_OverrideTheEnvironment()
    {
        var options = ConsulClientOptions.FromConfiguration(
            Config(
                ("HealthProxy:Consul:Address", "https://consul.example:8501"),
                ("HealthProxy:Consul:Token", "config-token"),
                ("HealthProxy:Consul:Datacenter", "eu1"),
                ("HealthProxy:Consul:Consistency", "stale"),
                ("HealthProxy:Consul:MaxResponseBytes", "2048")),
            Env(("CONSUL_HTTP_ADDR", "127.0.0.1:9999"), ("CONSUL_HTTP_TOKEN", "env-token")));

        Assert.Equal(new Uri("https://consul.example:8501"), options.Address);
        Assert.Equal("config-token", options.Token);
        Assert.Equal("eu1", options.Datacenter);
        Assert.Equal(ConsulConsistency.Stale, options.Consistency);
        Assert.Equal(2048, options.MaxResponseBytes);
    }

    [Theory]
    [InlineData("ftp://consul:21")]
    [InlineData("http://consul:8500/v1/")]
    [InlineData("http://user:pass@consul:8500")]
    [InlineData("not a url at all")]
    public void FromConfiguration_BadAddress_FailsNamingTheKey(string address)
    {
        var error = Assert.Throws<OptionsValidationException>(() => ConsulClientOptions.FromConfiguration(Config(("HealthProxy:Consul:Address", address)), Env()));

        Assert.Contains("HealthProxy:Consul:Address", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pass", error.Message.Replace("password", "", StringComparison.Ordinal).Replace("passed", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_BadEnvironmentAddress_FailsNamingTheVariable()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ConsulClientOptions.FromConfiguration(Config(), Env(("CONSUL_HTTP_ADDR", "unix:///var/run/consul.sock"))));

        Assert.Contains("CONSUL_HTTP_ADDR", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HealthProxy:Consul:Consistency", "eventual")]
    [InlineData("HealthProxy:Consul:MaxResponseBytes", "lots")]
    [InlineData("HealthProxy:Consul:MaxResponseBytes", "10")]
    [InlineData("HealthProxy:Consul:RequestTimeout", "soon")]
    public void FromConfiguration_BadValue_FailsNamingTheKey(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => ConsulClientOptions.FromConfiguration(Config((key, value)), Env()));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_WithToken_NeverPrintsIt()
    {
        var options = new ConsulClientOptions { Token = "super-secret" };

        Assert.DoesNotContain("super-secret", options.ToString(), StringComparison.Ordinal);
        Assert.Contains("(set)", options.ToString(), StringComparison.Ordinal);
    }
}
