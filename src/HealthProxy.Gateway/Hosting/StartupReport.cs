using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Hosting;

/// <summary>
/// Once the server listens, logs which configuration files were read and what each bound address serves,
/// so a deployer sees from the first lines whether the gateway runs with the intended file and ports.
/// </summary>
internal sealed partial class StartupReport(
    IHostApplicationLifetime lifetime,
    IServer server,
    IConfiguration configuration,
    GatewayListeners listeners,
    IOptions<MetricsOptions> metrics,
    ILogger<StartupReport> logger) : IHostedService
{
    private CancellationTokenRegistration _started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _started = lifetime.ApplicationStarted.Register(Report);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _started.DisposeAsync().AsTask();

    /// <summary>The JSON files the configuration was built from that exist, in the order they apply (later wins).</summary>
    public static IReadOnlyList<string> LoadedFiles(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return [];
        }

        var files = new List<string>();
        foreach (var provider in root.Providers)
        {
            switch (provider)
            {
                case WatchedJsonFileProvider watched when File.Exists(watched.Path):
                    files.Add(watched.Path);
                    break;
                case FileConfigurationProvider { Source: { Path: { } path, FileProvider: { } fileProvider } }
                    when fileProvider.GetFileInfo(path) is { Exists: true } info:
                    files.Add(info.PhysicalPath ?? path);
                    break;
            }
        }

        return files;
    }

    private void Report()
    {
        var files = LoadedFiles(configuration);
        LogConfigFiles(files.Count == 0 ? "none" : string.Join(", ", files));
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            var serves = Serves(address);
            LogListening(address, serves);
        }
    }

    private string Serves(string address)
    {
        var port = BindingAddress.Parse(address) is { IsUnixPipe: false } parsed ? parsed.Port : (int?)null;
        var scrape = metrics.Value.Enabled ? metrics.Value.Path : null;
        if (port is not null && port == listeners.GrpcPort)
        {
            return "gRPC health (grpc.health.v1.Health) only";
        }

        if (port is not null && port == listeners.MetricsPort)
        {
            return scrape is null ? "nothing (metrics are disabled)" : $"the Prometheus scrape path {scrape} only";
        }

        var traffic = port is not null && port == listeners.H2cPort ? "proxied traffic over HTTP/2 without TLS (h2c, gRPC)" : "proxied traffic";
        return scrape is not null && listeners.MetricsPort is null
            ? $"{traffic}, /health/*, and the Prometheus scrape path {scrape}"
            : $"{traffic} and /health/*";
    }

    [LoggerMessage(EventId = GatewayEventIds.StartupConfigFiles, Level = LogLevel.Information,
        Message = "Configuration files loaded (later ones override earlier ones): {Files}")]
    private partial void LogConfigFiles(string files);

    [LoggerMessage(EventId = GatewayEventIds.StartupListening, Level = LogLevel.Information,
        Message = "Listening on {Address}: {Serves}")]
    private partial void LogListening(string address, string serves);
}
