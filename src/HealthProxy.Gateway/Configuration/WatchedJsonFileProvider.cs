using System.Text.Json;
using HealthProxy.Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace HealthProxy.Gateway.Configuration;

/// <summary>
/// A JSON configuration file that never serves less than its last good version: a missing, unreadable,
/// half-written or invalid file, one whose route and cluster values do not parse, and one that would remove
/// every route and cluster are refused (reported to <see cref="ConfigFileStatus"/>) and the last good data
/// keeps serving until a complete, valid file replaces it.
/// </summary>
/// <remarks>
/// The file is watched through its directory, not its name, so a Kubernetes ConfigMap volume's update
/// (an atomic rename of the <c>..data</c> symlink that the file's own link points through) is seen, and
/// it is also read every <see cref="WatchedJsonFileSource.PollInterval"/>, comparing contents, for volumes
/// whose events never arrive. Reads are serialized by one lock; requests never take it.
/// </remarks>
internal sealed class WatchedJsonFileProvider : ConfigurationProvider, IDisposable
{
    private const string RoutesPrefix = HealthProxyHostingExtensions.ReverseProxySection + ":Routes:";
    private const string ClustersPrefix = HealthProxyHostingExtensions.ReverseProxySection + ":Clusters:";

    private readonly WatchedJsonFileSource _source;
    private readonly Lock _lock = new();
    private readonly ITimer _poll;
    private readonly ITimer _debounce;
    private readonly FileSystemWatcher? _watcher;
    private byte[]? _seen;
    private bool _disposed;

    public WatchedJsonFileProvider(WatchedJsonFileSource source)
    {
        _source = source;
        _debounce = TimeProvider.System.CreateTimer(_ => Check(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _poll = TimeProvider.System.CreateTimer(_ => Check(), null, source.PollInterval, source.PollInterval);
        _watcher = Watch(System.IO.Path.GetDirectoryName(source.Path));
    }

    /// <summary>The file's full path.</summary>
    public string Path => _source.Path;

    /// <summary>The first load: a problem here stops the gateway, naming the file (and line and byte for bad JSON).</summary>
    public override void Load()
    {
        lock (_lock)
        {
            var bytes = Read(out var missing);
            _seen = bytes;
            if (missing)
            {
                if (!_source.Optional)
                {
                    throw new GatewayConfigurationException($"Configuration file {_source.Path} does not exist.");
                }

                Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
                return;
            }

            if (!TryParse(bytes!, out var data, out var problem))
            {
                throw new GatewayConfigurationException($"Configuration file {_source.Path}: {problem}");
            }

            Data = data;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _watcher?.Dispose();
        _poll.Dispose();
        _debounce.Dispose();
    }

    /// <summary>Describes a JSON error as people find it: 1-based line and byte, and what the reader saw.</summary>
    public static string Describe(JsonException exception)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal) is var path and >= 0 ? path
            : message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var line and >= 0 ? line : message.Length;
        return $"not valid JSON at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}: {message[..cut].Trim().TrimEnd('.')}";
    }

    // File events only make a change seen sooner: where they cannot be had (no such directory yet, the system's
    // watch limit reached), the poll still sees it.
    private FileSystemWatcher? Watch(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
        {
            return null;
        }

        var watcher = new FileSystemWatcher(directory)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        watcher.Created += OnEvent;
        watcher.Changed += OnEvent;
        watcher.Deleted += OnEvent;
        watcher.Renamed += OnEvent;
        watcher.Error += (_, _) => _debounce.Change(_source.ReloadDelay, Timeout.InfiniteTimeSpan);
        try
        {
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            watcher.Dispose();
            return null;
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e) => _debounce.Change(_source.ReloadDelay, Timeout.InfiniteTimeSpan);

    private void Check()
    {
        var reload = false;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var bytes = Read(out var missing);
            if (bytes is null && !missing)
            {
                // Unreadable for now: read it afresh next time, even if it then holds what was seen before.
                _seen = null;
                return;
            }

            if (missing)
            {
                if (_seen is not null || Data.Count > 0)
                {
                    _seen = null;
                    _source.Status.Refused(_source.Path, "the file is missing");
                }

                return;
            }

            if (bytes is null || (_seen is not null && bytes.AsSpan().SequenceEqual(_seen)))
            {
                return;
            }

            _seen = bytes;
            if (!TryParse(bytes, out var data, out var problem))
            {
                _source.Status.Refused(_source.Path, problem);
                return;
            }

            if (HasRouting(Data) && !HasRouting(data))
            {
                _source.Status.Refused(_source.Path, "it would remove every route and cluster under ReverseProxy");
                return;
            }

            _source.Status.Loaded(_source.Path);
            if (!SameData(data))
            {
                Data = data;
                reload = true;
            }
        }

        if (reload)
        {
            try
            {
                OnReload();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A listener's failure (YARP's, an options consumer's) must not take the process down with it.
                _source.Status.ReloadFailed(_source.Path, ex.GetBaseException().Message);
            }
        }
    }

    private byte[]? Read(out bool missing)
    {
        missing = false;
        try
        {
            return File.ReadAllBytes(_source.Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            missing = true;
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Mid-write or mid-swap: the next event or poll reads it again.
            _source.Status.Refused(_source.Path, "it could not be read: " + ex.Message);
            return null;
        }
    }

    private static bool TryParse(byte[] bytes, out Dictionary<string, string?> data, out string problem)
    {
        data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        problem = string.Empty;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            foreach (var (key, value) in new JsonParser().Parse(stream))
            {
                data[key] = value;
            }
        }
        catch (JsonException ex)
        {
            problem = Describe(ex);
            return false;
        }
        catch (FormatException ex)
        {
            problem = ex.InnerException is JsonException json ? Describe(json) : ex.Message;
            return false;
        }

        var values = ReverseProxyValueCheck.Problems(
            new ConfigurationBuilder().AddInMemoryCollection(data).Build().GetSection(HealthProxyHostingExtensions.ReverseProxySection));
        if (values.Count > 0)
        {
            problem = string.Join(" ", values);
            return false;
        }

        return true;
    }

    private static bool HasRouting(IDictionary<string, string?> data) =>
        data.Keys.Any(key => key.StartsWith(RoutesPrefix, StringComparison.OrdinalIgnoreCase) || key.StartsWith(ClustersPrefix, StringComparison.OrdinalIgnoreCase));

    private bool SameData(Dictionary<string, string?> data) =>
        data.Count == Data.Count && data.All(pair => Data.TryGetValue(pair.Key, out var value) && value == pair.Value);

    // JSON parsing exactly as the default JSON provider does it, keys and all.
    private sealed class JsonParser() : JsonStreamConfigurationProvider(new JsonStreamConfigurationSource())
    {
        public IDictionary<string, string?> Parse(Stream stream)
        {
            Load(stream);
            return Data;
        }
    }
}
