using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Discovery;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Gateway.Views;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// What happens to a <c>HealthProxy:*</c> edit while the gateway runs: every edited section is validated again
/// (an invalid value is logged naming its key, and the running value stays); the detailed token and the
/// allowlist apply at once; any other edited key is logged as needing a restart.
/// </summary>
internal sealed partial class LiveSettings(IConfiguration configuration, IServiceProvider services, HealthEndpointAccess access, ILogger<LiveSettings> logger) : IDisposable
{
    private const string Root = "HealthProxy";

    /// <summary>The keys that apply without a restart (prefixes, so list entries count).</summary>
    public static readonly string[] LiveKeys =
    [
        $"{HealthSecurityOptions.SectionName}:{nameof(HealthSecurityOptions.DetailedToken)}",
        $"{HealthSecurityOptions.SectionName}:{nameof(HealthSecurityOptions.AllowedNetworks)}",
    ];

    private readonly Lock _lock = new();
    private Dictionary<string, string?> _applied = new(StringComparer.OrdinalIgnoreCase);
    private IDisposable? _subscription;

    public void Start()
    {
        _applied = Snapshot();
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, OnReload);
    }

    public void Dispose() => _subscription?.Dispose();

    private void OnReload()
    {
        try
        {
            lock (_lock)
            {
                Apply();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogApplyFailed(logger, ex.GetBaseException().Message);
        }
    }

    private void Apply()
    {
        var current = Snapshot();
        var changed = current.Keys.Union(_applied.Keys, StringComparer.OrdinalIgnoreCase)
            .Where(key => !_applied.TryGetValue(key, out var before) || !current.TryGetValue(key, out var after) || before != after)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (changed.Count == 0)
        {
            return;
        }

        var invalid = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        Validate<ProbeOptions>(ProbeOptions.SectionName, invalid);
        Validate<DiscoveryOptions>(DiscoveryOptions.SectionName, invalid);
        Validate<ShutdownOptions>(ShutdownOptions.SectionName, invalid);
        Validate<MetricsOptions>(MetricsOptions.SectionName, invalid);
        Validate<OutlierDetectionOptions>(OutlierDetectionOptions.SectionName, invalid);
        Validate<RetryOptions>(RetryOptions.SectionName, invalid);
        Validate<HealthSecurityOptions>(HealthSecurityOptions.SectionName, invalid);
        foreach (var problem in invalid.Values.SelectMany(p => p))
        {
            LogInvalid(logger, problem);
        }

        var security = changed.Where(key => LiveKeys.Any(live => IsUnder(key, live))).ToList();
        if (security.Count > 0 && !invalid.ContainsKey(HealthSecurityOptions.SectionName))
        {
            var options = services.GetRequiredService<IOptionsFactory<HealthSecurityOptions>>().Create(Options.DefaultName);
            access.Apply(options);
            foreach (var key in security.Select(LiveKeyOf).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                LogApplied(logger, key);
            }
        }

        // A section that failed validation changed nothing: its keys need no restart, and its last good values stay
        // what the next edit is compared against.
        bool Refused(string key) => invalid.Keys.Any(section => IsUnder(key, section));
        foreach (var key in changed.Where(key => !LiveKeys.Any(live => IsUnder(key, live)) && !Refused(key)))
        {
            LogNeedsRestart(logger, key);
        }

        var applied = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in current)
        {
            if (!Refused(key))
            {
                applied[key] = value;
            }
        }

        foreach (var (key, value) in _applied)
        {
            if (Refused(key))
            {
                applied[key] = value;
            }
        }

        _applied = applied;
    }

    private void Validate<T>(string section, Dictionary<string, List<string>> invalid)
        where T : class
    {
        try
        {
            _ = services.GetRequiredService<IOptionsFactory<T>>().Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            invalid[section] = [.. ex.Failures];
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The binder's own message names the key.
            invalid[section] = [ex.Message];
        }
    }

    private Dictionary<string, string?> Snapshot() =>
        configuration.GetSection(Root).AsEnumerable()
            .Where(pair => pair.Value is not null)
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.OrdinalIgnoreCase);

    private static bool IsUnder(string key, string prefix) =>
        key.Equals(prefix, StringComparison.OrdinalIgnoreCase) || key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase);

    private static string LiveKeyOf(string key) => LiveKeys.First(live => IsUnder(key, live));

    [LoggerMessage(EventId = GatewayEventIds.SettingApplied, Level = LogLevel.Information, Message = "{Key} changed and applies now.")]
    private static partial void LogApplied(ILogger logger, string key);

    [LoggerMessage(EventId = GatewayEventIds.SettingInvalid, Level = LogLevel.Error, Message = "Invalid edit, the running value stays: {Problem}")]
    private static partial void LogInvalid(ILogger logger, string problem);

    [LoggerMessage(EventId = GatewayEventIds.SettingNeedsRestart, Level = LogLevel.Warning, Message = "{Key} changed; it needs a restart to take effect.")]
    private static partial void LogNeedsRestart(ILogger logger, string key);

    [LoggerMessage(EventId = GatewayEventIds.SettingsApplyFailed, Level = LogLevel.Error, Message = "Applying a configuration edit failed, the running settings stay: {Reason}")]
    private static partial void LogApplyFailed(ILogger logger, string reason);
}
