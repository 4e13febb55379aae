using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HealthProxy.Consul.Api;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HealthProxy.Consul;

/// <summary>
/// The typed <see cref="HttpClient"/> over Consul's HTTP API. Thread-safe; one instance per agent address.
/// </summary>
/// <remarks>
/// The client applies its own per-request timeouts through the injected <see cref="TimeProvider"/>: a blocking
/// query gets <c>wait + wait/16 + BlockingTimeoutMargin</c> (Consul adds up to <c>wait/16</c> of jitter), every
/// other call <see cref="ConsulClientOptions.RequestTimeout"/>. So the <see cref="HttpClient"/> must not impose
/// its own: its <see cref="HttpClient.Timeout"/> has to be <see cref="Timeout.InfiniteTimeSpan"/> (the 100 s
/// default would cut a 5-minute blocking query short).
/// </remarks>
public sealed partial class ConsulClient : IConsulClient
{
    private const string TokenHeader = "X-Consul-Token";
    private const int MaxErrorMessageChars = 512;
    private static readonly TimeSpan ConsulDefaultWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ConsulMaxWait = TimeSpan.FromMinutes(10);
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly ConsulClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates the client.</summary>
    /// <param name="httpClient">The connection pool; its <see cref="HttpClient.Timeout"/> must be infinite (see remarks).</param>
    /// <param name="options">Where Consul is; validated here.</param>
    /// <param name="timeProvider">The clock for timeouts; <see langword="null"/> = <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; <see langword="null"/> = none.</param>
    /// <exception cref="ArgumentException"><paramref name="httpClient"/> has a finite timeout.</exception>
    public ConsulClient(HttpClient httpClient, ConsulClientOptions options, TimeProvider? timeProvider = null, ILogger<ConsulClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        if (httpClient.Timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException("The HttpClient's Timeout must be Timeout.InfiniteTimeSpan: ConsulClient applies its own per-request timeouts, longer than a blocking query's wait.", nameof(httpClient));
        }

        options.Validate();
        _http = httpClient;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task<ConsulQueryResult<IReadOnlyList<ConsulServiceEntry>>> GetHealthServiceAsync(string service, HealthServiceQuery? query = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        query ??= new HealthServiceQuery();
        var path = new StringBuilder("v1/health/service/").Append(Uri.EscapeDataString(service));
        var separator = '?';
        AppendReadParameters(path, ref separator, query.Index, query.Wait, query.Filter, query.Datacenter, query.Consistency);
        foreach (var tag in query.Tags)
        {
            Append(path, ref separator, "tag", tag);
        }

        var (response, body) = await SendAsync(HttpMethod.Get, path.ToString(), content: null, ReadTimeout(query.Index, query.Wait), cancellationToken).ConfigureAwait(false);
        var entries = Deserialize(body, ConsulJsonContext.Default.ListConsulServiceEntry, path.ToString());
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not { Node: not null, Service: not null })
            {
                throw Malformed(path.ToString(), $"entry {i} has no Node or no Service", inner: null);
            }
        }

        return Result<IReadOnlyList<ConsulServiceEntry>>(entries, response);
    }

    /// <inheritdoc />
    public async Task<ConsulQueryResult<IReadOnlyDictionary<string, IReadOnlyList<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new QueryOptions();
        var path = new StringBuilder("v1/catalog/services");
        var separator = '?';
        AppendReadParameters(path, ref separator, query.Index, query.Wait, query.Filter, query.Datacenter, query.Consistency);
        var (response, body) = await SendAsync(HttpMethod.Get, path.ToString(), content: null, ReadTimeout(query.Index, query.Wait), cancellationToken).ConfigureAwait(false);
        var services = Deserialize(body, ConsulJsonContext.Default.DictionaryStringListString, path.ToString());
        var result = new Dictionary<string, IReadOnlyList<string>>(services.Count, StringComparer.Ordinal);
        foreach (var (name, tags) in services)
        {
            result[name] = tags ?? [];
        }

        return Result<IReadOnlyDictionary<string, IReadOnlyList<string>>>(result, response);
    }

    /// <inheritdoc />
    public async Task RegisterServiceAsync(ConsulServiceRegistration registration, bool replaceExistingChecks = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentException.ThrowIfNullOrWhiteSpace(registration.Name, nameof(registration));
        var json = JsonSerializer.SerializeToUtf8Bytes(registration, ConsulJsonContext.Default.ConsulServiceRegistration);
        var path = replaceExistingChecks ? "v1/agent/service/register?replace-existing-checks" : "v1/agent/service/register";
        await PutAsync(path, json, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        return PutAsync("v1/agent/service/deregister/" + Uri.EscapeDataString(serviceId), json: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task UpdateTtlCheckAsync(string checkId, ConsulCheckStatus status, string? output = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkId);
        var json = JsonSerializer.SerializeToUtf8Bytes(new ConsulCheckUpdate(status.ToWireName(), output), ConsulJsonContext.Default.ConsulCheckUpdate);
        return PutAsync("v1/agent/check/update/" + Uri.EscapeDataString(checkId), json, cancellationToken);
    }

    /// <inheritdoc />
    public Task EnableServiceMaintenanceAsync(string serviceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        var path = "v1/agent/service/maintenance/" + Uri.EscapeDataString(serviceId) + "?enable=true";
        if (!string.IsNullOrEmpty(reason))
        {
            path += "&reason=" + Uri.EscapeDataString(reason);
        }

        return PutAsync(path, json: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task DisableServiceMaintenanceAsync(string serviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        return PutAsync("v1/agent/service/maintenance/" + Uri.EscapeDataString(serviceId) + "?enable=false", json: null, cancellationToken);
    }

    /// <summary>The timeout of a read: blocking queries get wait + wait/16 + margin, immediate ones the plain request timeout.</summary>
    internal TimeSpan ReadTimeout(ulong index, TimeSpan? wait)
    {
        if (index == 0)
        {
            return _options.RequestTimeout;
        }

        var effectiveWait = wait is { } w && w > TimeSpan.Zero ? (w > ConsulMaxWait ? ConsulMaxWait : w) : ConsulDefaultWait;
        return effectiveWait + (effectiveWait / 16) + _options.BlockingTimeoutMargin;
    }

    private async Task PutAsync(string path, byte[]? json, CancellationToken cancellationToken)
    {
        using var content = json is null ? null : new ByteArrayContent(json);
        if (content is not null)
        {
            content.Headers.ContentType = JsonMediaType;
        }

        var (response, _) = await SendAsync(HttpMethod.Put, path, content, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        response.Dispose();
    }

    private void AppendReadParameters(StringBuilder path, ref char separator, ulong index, TimeSpan? wait, string? filter, string? datacenter, ConsulConsistency? consistency)
    {
        if (index > 0)
        {
            Append(path, ref separator, "index", index.ToString(CultureInfo.InvariantCulture));
            if (wait is { } w && w > TimeSpan.Zero)
            {
                Append(path, ref separator, "wait", GoDuration.Format(w > ConsulMaxWait ? ConsulMaxWait : w));
            }
        }

        if (!string.IsNullOrEmpty(filter))
        {
            Append(path, ref separator, "filter", filter);
        }

        if ((datacenter ?? _options.Datacenter) is { Length: > 0 } dc)
        {
            Append(path, ref separator, "dc", dc);
        }

        if ((consistency ?? _options.Consistency) == ConsulConsistency.Stale)
        {
            path.Append(separator).Append("stale");
            separator = '&';
        }
    }

    private static void Append(StringBuilder path, ref char separator, string name, string value)
    {
        path.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
        separator = '&';
    }

    private async Task<(HttpResponseMessage Response, ReadOnlyMemory<byte> Body)> SendAsync(HttpMethod method, string path, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        using var request = new HttpRequestMessage(method, new Uri(_options.Address, path)) { Content = content };
        if (_options.Token is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation(TokenHeader, token);
        }

        HttpResponseMessage? response = null;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, method, path, linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw HttpError(method, path, response.StatusCode, body.Span);
            }

            Log.RequestSucceeded(_logger, method.Method, path, response.StatusCode, body.Length);
            var result = response;
            response = null;
            return (result, body);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Fail(new ConsulException(ConsulErrorKind.Timeout, $"Consul {method} /{PathOnly(path)} timed out after {timeout}.", innerException: ex), method, path);
        }
        catch (HttpRequestException ex)
        {
            throw Fail(new ConsulException(ConsulErrorKind.Unreachable, $"Consul {method} /{PathOnly(path)} failed: {ex.Message}", innerException: ex), method, path);
        }
        catch (IOException ex)
        {
            throw Fail(new ConsulException(ConsulErrorKind.Unreachable, $"Consul {method} /{PathOnly(path)} failed while reading the answer: {ex.Message}", innerException: ex), method, path);
        }
        catch (ConsulException ex)
        {
            throw Fail(ex, method, path);
        }
        finally
        {
            response?.Dispose();
        }
    }

    private ConsulException Fail(ConsulException exception, HttpMethod method, string path)
    {
        var pathOnly = PathOnly(path);
        Log.RequestFailed(_logger, method.Method, pathOnly, exception.Kind, exception.StatusCode, exception);

        return exception;
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var max = _options.MaxResponseBytes;
        if (response.Content.Headers.ContentLength is { } declared && declared > max)
        {
            throw TooLarge(method, path, max);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new ArrayBufferWriter<byte>(Math.Min((int)(response.Content.Headers.ContentLength ?? 4096), 64 * 1024) + 1);
            while (true)
            {
                var memory = buffer.GetMemory(16 * 1024);
                var read = await stream.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.WrittenMemory;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > max)
                {
                    throw TooLarge(method, path, max);
                }
            }
        }
    }

    private static ConsulException TooLarge(HttpMethod method, string path, long max) =>
        new(ConsulErrorKind.ResponseTooLarge, $"Consul {method} /{PathOnly(path)} answered with a body larger than {max} bytes (HealthProxy:Consul:MaxResponseBytes).");

    private static ConsulException HttpError(HttpMethod method, string path, HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        var message = Truncate(body);
        var kind = status == HttpStatusCode.Forbidden ? ConsulErrorKind.AccessDenied : ConsulErrorKind.HttpError;
        var text = message.Length == 0
            ? $"Consul {method} /{PathOnly(path)} answered {(int)status} {status}."
            : $"Consul {method} /{PathOnly(path)} answered {(int)status} {status}: {message}";
        return new ConsulException(kind, text, status, message.Length == 0 ? null : message);
    }

    private static string Truncate(ReadOnlySpan<byte> body)
    {
        var slice = body.Length > MaxErrorMessageChars * 4 ? body[..(MaxErrorMessageChars * 4)] : body;
        var text = Encoding.UTF8.GetString(slice).Trim();
        if (text.Length > MaxErrorMessageChars)
        {
            text = string.Concat(text.AsSpan(0, MaxErrorMessageChars), "…");
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
    }

    private static T Deserialize<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo, string path)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(body.Span, typeInfo) ?? throw Malformed(path, "the body is JSON null", inner: null);
        }
        catch (JsonException ex)
        {
            throw Malformed(path, ex.Message, ex);
        }
    }

    private static ConsulException Malformed(string path, string reason, Exception? inner) =>
        new(ConsulErrorKind.MalformedResponse, $"Consul GET /{PathOnly(path)} answered with malformed JSON: {reason}", innerException: inner);

    private static ConsulQueryResult<T> Result<T>(T value, HttpResponseMessage response)
    {
        using (response)
        {
            var headers = response.Headers;
            var index = ulong.TryParse(Header(headers, "X-Consul-Index"), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 0;
            var knownLeader = string.Equals(Header(headers, "X-Consul-KnownLeader"), "true", StringComparison.OrdinalIgnoreCase);
            var lastContact = ulong.TryParse(Header(headers, "X-Consul-LastContact"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                ? TimeSpan.FromMilliseconds(ms)
                : TimeSpan.Zero;
            return new ConsulQueryResult<T>(value, index, knownLeader, lastContact);
        }
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>The path without its query: filters and reasons stay out of messages and logs.</summary>
    private static string PathOnly(string path)
    {
        var query = path.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? path : path[..query];
    }
}
