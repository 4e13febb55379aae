using HealthProxy.Gateway.Hosting;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Tests.Hosting;

public sealed class RequestActivityDefaultTests
{
    [Theory]
    [InlineData(null, null, null, LogLevel.Information)]
    [InlineData("Warning", null, null, LogLevel.Warning)]
    [InlineData("Warning", "Information", null, LogLevel.Information)]
    [InlineData("Information", "Warning", null, LogLevel.Warning)]
    [InlineData("None", "Information", "debug", LogLevel.Debug)]
    [InlineData("Warning", "loud", null, null)]
    public void ConfiguredLevel_MostSpecificPrefixThenDefault(string? fallback, string? aspNetCore, string? diagnostics, LogLevel? expected)
    {
        var levels = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = fallback,
            ["Logging:LogLevel:Microsoft.AspNetCore"] = aspNetCore,
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = diagnostics,
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnosticsx"] = "Trace",
        }).Build().GetSection("Logging:LogLevel");

        Assert.Equal(expected, RequestActivityDefault.ConfiguredLevel(levels));
    }

    [Theory]
    [InlineData("Warning", null, false)]
    [InlineData("Warning", "Information", true)]
    [InlineData("Information", null, true)]
    public void Apply_RequestLoggerOnOnlyWhenItsLevelLetsSomethingThrough(string fallback, string? aspNetCore, bool enabled)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = fallback,
            ["Logging:LogLevel:Microsoft.AspNetCore"] = aspNetCore,
        });
        builder.Logging.ClearProviders().AddProvider(new SilentLoggerProvider());

        RequestActivityDefault.Apply(builder);
        using var services = builder.Services.BuildServiceProvider();

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(RequestActivityDefault.Category);
        Assert.Equal(enabled, logger.IsEnabled(LogLevel.Critical));
        Assert.True(services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Routing").IsEnabled(LogLevel.Warning));
    }
}
