using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Turns ASP.NET Core's request logger off once the host has started, when the logging rules would let none of
/// its request lines through, so that no request pays for an <see cref="System.Diagnostics.Activity"/> that
/// nothing reads.
/// </summary>
/// <remarks>
/// <para>
/// Hosting starts an Activity (a W3C trace id, a request log scope, and a <c>traceparent</c> that YARP then writes
/// into the proxied request) for every request whenever its <see cref="Category"/> logger is on at any level,
/// although that logger writes its request lines only at Information. When the rules give every logging
/// provider a level above Information for the category, a rule setting it to None is added per provider once
/// the host has started; a request then starts an Activity only when something listens for one (an
/// <see cref="System.Diagnostics.ActivitySource"/> listener such as OpenTelemetry tracing, or a
/// DiagnosticListener subscriber), as Hosting itself decides, and a caller's <c>traceparent</c> is forwarded as
/// sent. Starting no Activity is a per-request saving of its own (see the README's Performance section).
/// </para>
/// <para>
/// Until the host has started the configured levels apply unchanged: the category also carries Hosting's own
/// startup lines (the "Overriding HTTP_PORTS" warning, a Critical startup exception). What the request loses is
/// its log scope (RequestId, RequestPath, TraceId) on the lines others write while serving it. The rules are
/// judged as logging selects them (provider-specific and wildcard rules, rules added in code) and judged again on
/// every reload of the logging configuration. Nothing is changed when a rule names the category itself (the way
/// to keep the Activity and the scope at Warning), when a selected rule has a filter function (what it lets
/// through is unknowable), or when any provider would write the request lines.
/// </para>
/// </remarks>
internal sealed class RequestActivityDefault : IPostConfigureOptions<LoggerFilterOptions>, IOptionsChangeTokenSource<LoggerFilterOptions>, IDisposable
{
    private static readonly IChangeToken NeverChanges = new CancellationChangeToken(CancellationToken.None);

    /// <summary>The logger whose being on makes Hosting start an Activity per request.</summary>
    public const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private readonly Type[] _providers;
    private readonly CancellationTokenSource _started = new();
    private volatile bool _hostStarted;

    private RequestActivityDefault(IEnumerable<ILoggerProvider> providers) =>
        _providers = [.. providers.Select(p => p.GetType()).Distinct()];

    public string? Name => Options.DefaultName;

    /// <summary>Registers the rule, the change that applies it once the host has started, and that trigger.</summary>
    public static void AddTo(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(RequestActivityDefault)))
        {
            return;
        }

        services.AddSingleton(sp => new RequestActivityDefault(sp.GetServices<ILoggerProvider>()));
        services.AddSingleton<IPostConfigureOptions<LoggerFilterOptions>>(sp => sp.GetRequiredService<RequestActivityDefault>());
        services.AddSingleton<IOptionsChangeTokenSource<LoggerFilterOptions>>(sp => sp.GetRequiredService<RequestActivityDefault>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StartedTrigger>());
    }

    public IChangeToken GetChangeToken() =>
        _hostStarted ? NeverChanges : new CancellationChangeToken(_started.Token);

    public void PostConfigure(string? name, LoggerFilterOptions options)
    {
        if (name != Options.DefaultName || !_hostStarted || !RequestLinesOff(options, _providers))
        {
            return;
        }

        // Provider-specific, with the full category and last: the rule logging selects for every provider.
        foreach (var provider in _providers)
        {
            options.Rules.Add(new LoggerFilterRule(provider.FullName, Category, LogLevel.None, filter: null));
        }
    }

    /// <summary>
    /// Whether <paramref name="providers"/> all select, for <see cref="Category"/>, a level above Information with no
    /// filter function, and no rule names the category itself.
    /// </summary>
    internal static bool RequestLinesOff(LoggerFilterOptions options, IReadOnlyCollection<Type> providers)
    {
        if (providers.Count == 0 || options.Rules.Any(r => r.CategoryName is { } name && NamesTheCategory(name)))
        {
            return false;
        }

        foreach (var provider in providers)
        {
            var (level, filter) = Select(options, provider);
            if (filter is not null || level is null or <= LogLevel.Information)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The level and filter logging gives <paramref name="provider"/>'s logger for <see cref="Category"/>.</summary>
    /// <remarks>Microsoft.Extensions.Logging's LoggerRuleSelector, which is internal, for this one category.</remarks>
    private static (LogLevel? Level, Func<string?, string?, LogLevel, bool>? Filter) Select(LoggerFilterOptions options, Type provider)
    {
        var alias = provider.GetCustomAttribute<ProviderAliasAttribute>()?.Alias;
        LoggerFilterRule? current = null;
        foreach (var rule in options.Rules)
        {
            if (IsBetter(rule, current, provider.FullName) || (!string.IsNullOrEmpty(alias) && IsBetter(rule, current, alias)))
            {
                current = rule;
            }
        }

        return current is null ? (options.MinLevel, null) : (current.LogLevel, current.Filter);
    }

    private static bool IsBetter(LoggerFilterRule rule, LoggerFilterRule? current, string? provider)
    {
        if (rule.ProviderName is not null && rule.ProviderName != provider)
        {
            return false;
        }

        if (rule.CategoryName is { } name && !Matches(name))
        {
            return false;
        }

        if (current?.ProviderName is not null)
        {
            if (rule.ProviderName is null)
            {
                return false;
            }
        }
        else if (rule.ProviderName is not null)
        {
            return true;
        }

        if (current?.CategoryName is not null)
        {
            if (rule.CategoryName is null || current.CategoryName.Length > rule.CategoryName.Length)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a rule's category (one <c>*</c> at most, as logging requires) covers <see cref="Category"/>.</summary>
    private static bool Matches(string name)
    {
        var wildcard = name.IndexOf('*', StringComparison.Ordinal);
        var prefix = wildcard < 0 ? name : name[..wildcard];
        var suffix = wildcard < 0 ? "" : name[(wildcard + 1)..];
        return Category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && Category.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether a rule's category is the category itself, not a prefix of it or a wildcard over many.</summary>
    private static bool NamesTheCategory(string name) => Matches(name) && name.Replace("*", "", StringComparison.Ordinal).Length >= Category.Length;

    public void Dispose() => _started.Dispose();

    private void HostStarted()
    {
        _hostStarted = true;
        _started.Cancel();   // logging's options monitor rebuilds its filter options, and every logger's filters
    }

    /// <summary>Tells the rule that the host has started (ApplicationStarted: after every hosted service's start).</summary>
    private sealed class StartedTrigger(RequestActivityDefault rule, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(static state => ((RequestActivityDefault)state!).HostStarted(), rule);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
