using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// Puts the gateway's JSON configuration files under <see cref="WatchedJsonFileProvider"/>: the host's own
/// (<c>appsettings.json</c> and the like, which reload on change) and the file named by <see cref="ConfigFileKey"/>.
/// </summary>
internal static class ConfigFiles
{
    /// <summary>
    /// A JSON file used instead of the content root's <c>appsettings.json</c> (<c>appsettings.{Environment}.json</c>,
    /// environment variables and the command line still override it), watched through its directory: the way to
    /// mount a Kubernetes ConfigMap as a directory and see its updates.
    /// </summary>
    public const string ConfigFileKey = "HealthProxy:ConfigFile";

    public static ConfigFileStatus Watch(WebApplicationBuilder builder)
    {
        var status = new ConfigFileStatus();
        var sources = builder.Configuration.Sources;
        var before = Snapshot(builder.Configuration);
        var lastJson = -1;
        var appsettings = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is not JsonConfigurationSource json || json.Path is null)
            {
                continue;
            }

            lastJson = i;
            if (string.Equals(json.Path, "appsettings.json", StringComparison.OrdinalIgnoreCase))
            {
                appsettings = i;
            }

            if (json.ReloadOnChange)
            {
                var root = (json.FileProvider as PhysicalFileProvider)?.Root ?? builder.Environment.ContentRootPath;
                sources[i] = new WatchedJsonFileSource(Path.Combine(root, json.Path), json.Optional, status);
            }
        }

        if (builder.Configuration[ConfigFileKey] is { Length: > 0 } file)
        {
            var path = Path.IsPathRooted(file) ? file : Path.Combine(builder.Environment.ContentRootPath, file);
            var named = new WatchedJsonFileSource(path, optional: false, status);
            if (appsettings >= 0)
            {
                sources[appsettings] = named;
            }
            else
            {
                sources.Insert(lastJson + 1, named);
            }
        }

        Restore(builder.Configuration, before);
        return status;
    }

    // Changing a source rebuilds every provider from its source, which drops the values set through the
    // configuration's indexer (UseUrls, UseSetting): they exist only in the built providers. So each provider
    // that is still there gets back the values it held beyond what its source gives.
    private static List<(IConfigurationSource Source, Dictionary<string, string?> Values)> Snapshot(ConfigurationManager configuration) =>
        [.. configuration.Sources.Zip(((IConfigurationRoot)configuration).Providers, (source, provider) => (source, Values(provider)))];

    private static void Restore(ConfigurationManager configuration, List<(IConfigurationSource Source, Dictionary<string, string?> Values)> before)
    {
        foreach (var (source, provider) in configuration.Sources.Zip(((IConfigurationRoot)configuration).Providers))
        {
            if (before.FirstOrDefault(b => ReferenceEquals(b.Source, source)).Values is not { } old)
            {
                continue;
            }

            var now = Values(provider);
            foreach (var (key, value) in old)
            {
                if (!now.TryGetValue(key, out var current) || current != value)
                {
                    provider.Set(key, value);
                }
            }
        }
    }

    private static Dictionary<string, string?> Values(IConfigurationProvider provider)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Collect(provider, null, values);
        return values;
    }

    private static void Collect(IConfigurationProvider provider, string? parent, Dictionary<string, string?> values)
    {
        foreach (var key in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var path = parent is null ? key : ConfigurationPath.Combine(parent, key);
            if (provider.TryGet(path, out var value))
            {
                values[path] = value;
            }

            Collect(provider, path, values);
        }
    }
}
