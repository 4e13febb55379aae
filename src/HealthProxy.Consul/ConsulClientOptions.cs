using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HealthProxy.Consul;

/// <summary>
/// Where Consul is and how to talk to it. Read with <see cref="FromConfiguration"/>: the configuration
/// section <see cref="SectionName"/> wins over Consul's own environment variables
/// (<c>CONSUL_HTTP_ADDR</c>, <c>CONSUL_HTTP_TOKEN</c>, <c>CONSUL_HTTP_SSL</c>), which win over the defaults.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never prints the token. HTTPS works through the platform's certificate
/// validation; there is no switch to turn validation off.
/// </remarks>
public sealed class ConsulClientOptions
{
    /// <summary>The configuration section the options are read from: <c>HealthProxy:Consul</c>.</summary>
    public const string SectionName = "HealthProxy:Consul";

    /// <summary>The environment variable Consul's CLI reads the agent address from (<c>host:port</c> or a URL).</summary>
    public const string AddressEnvironmentVariable = "CONSUL_HTTP_ADDR";

    /// <summary>The environment variable Consul's CLI reads the ACL token from.</summary>
    public const string TokenEnvironmentVariable = "CONSUL_HTTP_TOKEN";

    /// <summary>The environment variable that makes a scheme-less <c>CONSUL_HTTP_ADDR</c> use HTTPS.</summary>
    public const string SslEnvironmentVariable = "CONSUL_HTTP_SSL";

    /// <summary>The default agent address, <c>http://127.0.0.1:8500</c>.</summary>
    public static readonly Uri DefaultAddress = new("http://127.0.0.1:8500");

    /// <summary>The default cap on a response body: 8 MiB.</summary>
    public const long DefaultMaxResponseBytes = 8L * 1024 * 1024;

    /// <summary>The agent's base address (<c>http</c> or <c>https</c>, no path); default <see cref="DefaultAddress"/>.</summary>
    public Uri Address { get; init; } = DefaultAddress;

    /// <summary>The ACL token sent as <c>X-Consul-Token</c>; <see langword="null"/> (default) = the agent's default token.</summary>
    public string? Token { get; init; }

    /// <summary>The datacenter sent as <c>dc</c>; <see langword="null"/> (default) = the agent's own.</summary>
    public string? Datacenter { get; init; }

    /// <summary>The consistency mode of reads; default <see cref="ConsulConsistency.Default"/>.</summary>
    public ConsulConsistency Consistency { get; init; } = ConsulConsistency.Default;

    /// <summary>The largest response body read; a larger one fails with <see cref="ConsulErrorKind.ResponseTooLarge"/>. Default 8 MiB.</summary>
    public long MaxResponseBytes { get; init; } = DefaultMaxResponseBytes;

    /// <summary>The timeout of a call that does not block (writes, index 0 reads); default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Added to <c>wait + wait/16</c> (Consul's jitter) to get a blocking query's timeout, so a slow but healthy
    /// answer is not cut off; default 15 seconds.
    /// </summary>
    public TimeSpan BlockingTimeoutMargin { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Reads the options from <paramref name="configuration"/> (keys under <see cref="SectionName"/>:
    /// <c>Address</c>, <c>Token</c>, <c>Datacenter</c>, <c>Consistency</c>, <c>MaxResponseBytes</c>,
    /// <c>RequestTimeout</c>, <c>BlockingTimeoutMargin</c>) over the environment variables, and validates them.
    /// </summary>
    /// <param name="configuration">The configuration root.</param>
    /// <param name="environment">Reads an environment variable; <see langword="null"/> = the process environment.</param>
    /// <exception cref="OptionsValidationException">A value is invalid; the message names the key.</exception>
    public static ConsulClientOptions FromConfiguration(IConfiguration configuration, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        environment ??= Environment.GetEnvironmentVariable;
        var section = configuration.GetSection(SectionName);
        var failures = new List<string>();
        var options = new ConsulClientOptions();

        var useHttps = bool.TryParse(environment(SslEnvironmentVariable), out var ssl) && ssl;
        var address = DefaultAddress;
        if (Nonempty(section["Address"]) is { } configured)
        {
            address = ParseAddress(configured, useHttps, $"{SectionName}:Address", failures) ?? address;
        }
        else if (Nonempty(environment(AddressEnvironmentVariable)) is { } fromEnvironment)
        {
            address = ParseAddress(fromEnvironment, useHttps, AddressEnvironmentVariable, failures) ?? address;
        }

        var token = Nonempty(section["Token"]) ?? Nonempty(environment(TokenEnvironmentVariable));

        var consistency = ConsulConsistency.Default;
        if (Nonempty(section["Consistency"]) is { } consistencyText
            && (!Enum.TryParse(consistencyText, ignoreCase: true, out consistency) || !Enum.IsDefined(consistency)))
        {
            failures.Add($"{SectionName}:Consistency must be Default or Stale (got '{consistencyText}').");
        }

        var maxBytes = options.MaxResponseBytes;
        if (Nonempty(section["MaxResponseBytes"]) is { } maxText
            && !long.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out maxBytes))
        {
            failures.Add($"{SectionName}:MaxResponseBytes must be a whole number of bytes (got '{maxText}').");
        }

        var requestTimeout = ReadTimeSpan(section, "RequestTimeout", options.RequestTimeout, failures);
        var margin = ReadTimeSpan(section, "BlockingTimeoutMargin", options.BlockingTimeoutMargin, failures);

        if (failures.Count == 0)
        {
            options = new ConsulClientOptions
            {
                Address = address,
                Token = token,
                Datacenter = Nonempty(section["Datacenter"]),
                Consistency = consistency,
                MaxResponseBytes = maxBytes,
                RequestTimeout = requestTimeout,
                BlockingTimeoutMargin = margin,
            };
            failures.AddRange(options.Check());
        }

        return failures.Count == 0
            ? options
            : throw new OptionsValidationException(SectionName, typeof(ConsulClientOptions), failures);
    }

    /// <summary>Throws when a value is out of range; the message names the configuration key.</summary>
    /// <exception cref="OptionsValidationException">A value is invalid.</exception>
    public void Validate()
    {
        var failures = Check();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(SectionName, typeof(ConsulClientOptions), failures);
        }
    }

    /// <summary>Describes the options without the token.</summary>
    public override string ToString() =>
        $"Address={Address}, Token={(Token is null ? "(none)" : "(set)")}, Datacenter={Datacenter ?? "(agent's)"}, Consistency={Consistency}";

    internal static Uri? ParseAddress(string text, bool useHttps, string key, List<string> failures)
    {
        text = text.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            // Consul's CLI accepts "host:port" without a scheme.
            text = (useHttps ? "https://" : "http://") + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || uri.AbsolutePath != "/"
            || !string.IsNullOrEmpty(uri.Query)
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add($"{key} must be an http or https address like 'http://127.0.0.1:8500' or '127.0.0.1:8500', without a path, query or credentials.");
            return null;
        }

        return uri;
    }

    private List<string> Check()
    {
        var failures = new List<string>();
        if (Address is null
            || !Address.IsAbsoluteUri
            || (Address.Scheme != Uri.UriSchemeHttp && Address.Scheme != Uri.UriSchemeHttps)
            || Address.AbsolutePath != "/")
        {
            failures.Add($"{SectionName}:Address must be an absolute http or https address without a path.");
        }

        if (MaxResponseBytes is < 1024 or > int.MaxValue)
        {
            failures.Add($"{SectionName}:MaxResponseBytes must be between 1024 and {int.MaxValue}.");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{SectionName}:RequestTimeout must be positive.");
        }

        if (BlockingTimeoutMargin <= TimeSpan.Zero)
        {
            failures.Add($"{SectionName}:BlockingTimeoutMargin must be positive.");
        }

        if (Token is not null && Token.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            failures.Add($"{SectionName}:Token must be a single line.");
        }

        return failures;
    }

    private static TimeSpan ReadTimeSpan(IConfigurationSection section, string name, TimeSpan fallback, List<string> failures)
    {
        if (Nonempty(section[name]) is not { } text)
        {
            return fallback;
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        failures.Add($"{SectionName}:{name} must be a time span like '00:00:30' (got '{text}').");
        return fallback;
    }

    private static string? Nonempty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
