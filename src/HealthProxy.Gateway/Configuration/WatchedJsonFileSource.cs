using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Configuration;

/// <summary>A JSON configuration file that keeps its last good version (see <see cref="WatchedJsonFileProvider"/>).</summary>
internal sealed class WatchedJsonFileSource(string path, bool optional, ConfigFileStatus status) : IConfigurationSource
{
    /// <summary>The file's full path (a symbolic link is followed on every read).</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public bool Optional { get; } = optional;

    public ConfigFileStatus Status { get; } = status;

    /// <summary>How long after a file event the file is read, so one save that fires several events is read once.</summary>
    public TimeSpan ReloadDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the file is read anyway, for file systems whose events do not arrive (network volumes, some swaps).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new WatchedJsonFileProvider(this);
}
