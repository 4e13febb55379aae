using HealthProxy.Gateway.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// Whether each configuration file the gateway watches is serving what it says now, or a last good
/// version because the newest could not be used. The one owner of that fact: readiness reads it and
/// the watched files' providers write it.
/// </summary>
/// <remarks>
/// Providers are built before the host has a logger, so events are kept until <see cref="AttachLogger"/>
/// and then logged in order. Writes are rare (a file event), so a lock is fine.
/// </remarks>
internal sealed partial class ConfigFileStatus
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _problems = new(StringComparer.Ordinal);
    private readonly List<Action<ILogger>> _pending = [];
    private ILogger? _logger;

    /// <summary>Whether some file's newest version was refused, so an older one keeps serving.</summary>
    public bool Stale
    {
        get
        {
            lock (_lock)
            {
                return _problems.Count > 0;
            }
        }
    }

    /// <summary>The refused files and why, for people (the log says the same).</summary>
    public IReadOnlyDictionary<string, string> Problems
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, string>(_problems, StringComparer.Ordinal);
            }
        }
    }

    public void AttachLogger(ILogger logger)
    {
        lock (_lock)
        {
            _logger = logger;
            foreach (var write in _pending)
            {
                write(logger);
            }

            _pending.Clear();
        }
    }

    /// <summary>The file's newest version could not be used (missing, unreadable, invalid): the last good one keeps serving.</summary>
    public void Refused(string file, string reason) => Record(file, reason, logger => LogRefused(logger, file, reason));

    /// <summary>The file was loaded as it is now.</summary>
    public void Loaded(string file)
    {
        lock (_lock)
        {
            if (_problems.Remove(file))
            {
                Write(logger => LogLoaded(logger, file));
            }
        }
    }

    /// <summary>The file's data was applied but a reader of the configuration failed on it (YARP keeps its last good routes).</summary>
    public void ReloadFailed(string file, string reason)
    {
        lock (_lock)
        {
            Write(logger => LogReloadFailed(logger, file, reason));
        }
    }

    private void Record(string file, string reason, Action<ILogger> log)
    {
        lock (_lock)
        {
            var repeated = _problems.TryGetValue(file, out var previous) && previous == reason;
            _problems[file] = reason;
            if (!repeated)
            {
                Write(log);
            }
        }
    }

    private void Write(Action<ILogger> log)
    {
        if (_logger is { } logger)
        {
            log(logger);
        }
        else
        {
            _pending.Add(log);
        }
    }

    [LoggerMessage(EventId = GatewayEventIds.ConfigFileRefused, Level = LogLevel.Error,
        Message = "Configuration file {File} was not applied: {Reason}. The last good configuration keeps serving until a complete, valid file replaces it.")]
    private static partial void LogRefused(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = GatewayEventIds.ConfigReloadFailed, Level = LogLevel.Error,
        Message = "Configuration file {File} was read, but applying it failed: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string file, string reason);

    [LoggerMessage(EventId = GatewayEventIds.ConfigFileLoaded, Level = LogLevel.Information,
        Message = "Configuration file {File} is valid again and applied.")]
    private static partial void LogLoaded(ILogger logger, string file);
}
