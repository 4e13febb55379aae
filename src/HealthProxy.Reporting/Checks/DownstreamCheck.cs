using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Reporting.Checks;

/// <summary>GETs a downstream service's health endpoint; 200 is healthy, anything else (or no answer) is a failure.</summary>
internal sealed class DownstreamCheck : IHealthCheck
{
    /// <summary>The named <see cref="HttpClient"/> the checks use; configure it with <c>AddHttpClient(HttpClientName)</c>.</summary>
    public const string HttpClientName = "HealthProxy.Reporting.Downstream";

    private readonly IHttpClientFactory _clients;
    private readonly DownstreamCheckOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public DownstreamCheck(IHttpClientFactory clients, DownstreamCheckOptions options, TimeProvider time, ILogger logger)
    {
        _clients = clients;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        TimedProbe.RunAsync(context, _options.Timeout, _time, _logger, ProbeAsync, cancellationToken);

    private async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var client = _clients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, _options.Uri);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK ? null : $"The health endpoint answered {(int)response.StatusCode}.";
    }
}
