using HealthProxy.Gateway.Hosting;
using HealthProxy.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Tests.Hosting;

public sealed class RequestActivityDefaultTests
{
    private static readonly Type[] ConsoleAndSilent = [typeof(ConsoleLoggerProvider), typeof(SilentLoggerProvider)];

    public static TheoryData<string, string[], bool> Rules => new()
    {
        { "shipped: Microsoft.AspNetCore above Information", ["LogLevel:Default=Warning", "LogLevel:Microsoft.AspNetCore=Warning"], true },
        { "everything at Information", ["LogLevel:Default=Information"], false },
        { "no rules: logging's minimum, Information", [], false },
        { "prefix at Information", ["LogLevel:Default=Warning", "LogLevel:Microsoft.AspNetCore=Information"], false },
        { "wildcard prefix at Information", ["LogLevel:Default=Warning", "LogLevel:Microsoft.*=Information"], false },
        { "wildcard suffix at Information", ["LogLevel:Default=Warning", "LogLevel:*.Diagnostics=Information"], false },
        { "longer wildcard wins over a shorter prefix", ["LogLevel:Default=Information", "LogLevel:Microsoft=Information", "LogLevel:Microsoft.AspNetCore.*=Error"], true },
        { "a provider's own default at Information", ["LogLevel:Default=Warning", "Console:LogLevel:Default=Information"], false },
        { "one provider above Information, another at it", ["LogLevel:Default=Information", "Console:LogLevel:Microsoft.AspNetCore=Warning"], false },
        { "every provider above Information by its own rules", ["LogLevel:Default=Information", "Console:LogLevel:Microsoft.AspNetCore=Warning", "HealthProxy.Testing.SilentLoggerProvider:LogLevel:Default=Error"], true },
        { "the category named itself", ["LogLevel:Default=Warning", "LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Warning"], false },
        { "the category named with a provider", ["LogLevel:Default=Warning", "Console:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Error"], false },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void RequestLinesOff_ConfiguredRules_AsLoggingSelectsThem(string because, string[] rules, bool off)
    {
        var options = FilterOptions(rules);

        Assert.True(off == RequestActivityDefault.RequestLinesOff(options, ConsoleAndSilent), because);
    }

    [Fact]
    public void RequestLinesOff_AProviderByItsFullNameAtInformation_On()
    {
        var options = FilterOptions(["LogLevel:Default=Warning", $"{typeof(SilentLoggerProvider).FullName}:LogLevel:Microsoft=Information"]);

        Assert.False(RequestActivityDefault.RequestLinesOff(options, ConsoleAndSilent));
        Assert.True(RequestActivityDefault.RequestLinesOff(options, [typeof(ConsoleLoggerProvider)]));
    }

    [Fact]
    public void RequestLinesOff_AFilterFunctionSelected_LeftAlone()
    {
        var options = FilterOptions(["LogLevel:Default=Warning"]);
        options.Rules.Add(new LoggerFilterRule(null, "Microsoft.AspNetCore", LogLevel.Warning, (_, _, level) => level >= LogLevel.Warning));

        Assert.False(RequestActivityDefault.RequestLinesOff(options, ConsoleAndSilent));
    }

    [Fact]
    public void RequestLinesOff_NoProviders_NothingToChange()
    {
        Assert.False(RequestActivityDefault.RequestLinesOff(FilterOptions(["LogLevel:Default=Warning"]), []));
    }

    [Fact]
    public async Task HostStarts_RequestLinesOff_CategoryOffAfterStartOnlyAndBackOnReload()
    {
        await using var app = App(new() { ["Logging:LogLevel:Default"] = "Warning" });
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(RequestActivityDefault.Category);
        var routing = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Routing");
        Assert.True(logger.IsEnabled(LogLevel.Warning));   // Hosting's startup warnings and errors still log

        await app.StartAsync();
        Assert.False(logger.IsEnabled(LogLevel.Critical));
        Assert.True(routing.IsEnabled(LogLevel.Warning));

        app.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Information";
        ((IConfigurationRoot)app.Configuration).Reload();
        Assert.True(logger.IsEnabled(LogLevel.Information));

        app.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning";
        ((IConfigurationRoot)app.Configuration).Reload();
        Assert.False(logger.IsEnabled(LogLevel.Critical));
        await app.StopAsync();
    }

    [Fact]
    public async Task HostStarts_RequestLinesOn_CategoryLeftAsConfigured()
    {
        await using var app = App(new() { ["Logging:LogLevel:Default"] = "Warning", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Information" });

        await app.StartAsync();

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(RequestActivityDefault.Category);
        Assert.True(logger.IsEnabled(LogLevel.Information));
        await app.StopAsync();
    }

    private static LoggerFilterOptions FilterOptions(string[] rules)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(rules.Select(r => r.Split('=')).Select(p => KeyValuePair.Create<string, string?>("Logging:" + p[0], p[1])))
            .Build();
        using var services = new ServiceCollection().AddLogging(b => b.AddConfiguration(configuration.GetSection("Logging"))).BuildServiceProvider();
        return services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value;
    }

    private static WebApplication App(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddProvider(new SilentLoggerProvider());
        RequestActivityDefault.AddTo(builder.Services);
        return builder.Build();
    }
}
