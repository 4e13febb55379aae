using System.Globalization;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Publishing;

/// <summary>
/// Validates <see cref="ConsulPublishingOptions"/> at startup. Every message names the configuration key
/// (<c>HealthProxy:Publishing:Ttl</c>) so that a bad config stops the process with something to fix.
/// </summary>
internal sealed class ConsulPublishingOptionsValidator : IValidateOptions<ConsulPublishingOptions>
{
    private const int MaxMetaPairs = 64;
    private const int MaxMetaKeyLength = 128;
    private const int MaxMetaValueLength = 512;
    private static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxTtl = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinDeregisterAfter = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, ConsulPublishingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ServiceName))
        {
            failures.Add($"{Key("ServiceName")} must not be empty (it defaults to the service health options' ServiceName).");
        }

        if (options.ServiceId is { } id && (id.Length == 0 || id.AsSpan().IndexOfAny("/?#") >= 0 || id.Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Key("ServiceId")} must be non-empty without '/', '?', '#' or white space (got '{id}').");
        }

        if (options.Address is { } address && string.IsNullOrWhiteSpace(address))
        {
            failures.Add($"{Key("Address")} must not be blank; leave it out to use the Consul agent node's address.");
        }

        if (options.Port is { } port and (< 1 or > 65535))
        {
            failures.Add($"{Key("Port")} must be between 1 and 65535 (got {port.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (options.Tags.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{Key("Tags")} must not contain empty tags.");
        }

        CheckMeta(options, failures);
        CheckTimes(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckMeta(ConsulPublishingOptions options, List<string> failures)
    {
        var count = options.Meta.Count + (options.Category is not null && !options.Meta.ContainsKey(ConsulPublisher.CategoryMetaKey) ? 1 : 0);
        if (count > MaxMetaPairs)
        {
            failures.Add($"{Key("Meta")} may hold at most {MaxMetaPairs} pairs, Category included (got {count}).");
        }

        foreach (var (key, value) in options.Meta)
        {
            if (key.Length is 0 or > MaxMetaKeyLength
                || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
                || key.StartsWith("consul-", StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{Key("Meta")}:{key}: keys are 1-{MaxMetaKeyLength} letters, digits, '-' or '_' and must not start with 'consul-'.");
            }

            if (value is null || value.Length > MaxMetaValueLength)
            {
                failures.Add($"{Key("Meta")}:{key}: the value must be at most {MaxMetaValueLength} characters.");
            }
        }

        if (options.Category is { } category && (string.IsNullOrWhiteSpace(category) || category.Length > MaxMetaValueLength))
        {
            failures.Add($"{Key("Category")} must be non-blank and at most {MaxMetaValueLength} characters; leave it out for none.");
        }
    }

    private static void CheckTimes(ConsulPublishingOptions options, List<string> failures)
    {
        if (options.Ttl < MinTtl || options.Ttl > MaxTtl)
        {
            failures.Add($"{Key("Ttl")} must be between {MinTtl} and {MaxTtl} (got {options.Ttl}).");
        }

        if (options.Jitter is < 0 or > 0.5 || double.IsNaN(options.Jitter))
        {
            failures.Add($"{Key("Jitter")} must be a fraction between 0 and 0.5 (got {options.Jitter.ToString(CultureInfo.InvariantCulture)}).");
        }
        else if (options.EffectiveUpdateInterval <= TimeSpan.Zero || options.EffectiveUpdateInterval * (1 + options.Jitter) >= options.Ttl)
        {
            // The longest wait between two updates must end before the TTL does, or a healthy service flaps critical.
            failures.Add($"{Key("UpdateInterval")} must be positive and, with {Key("Jitter")} added, shorter than {Key("Ttl")} (got {options.EffectiveUpdateInterval} for a TTL of {options.Ttl}).");
        }

        if (options.DeregisterCriticalServiceAfter != TimeSpan.Zero && options.DeregisterCriticalServiceAfter < MinDeregisterAfter)
        {
            failures.Add($"{Key("DeregisterCriticalServiceAfter")} must be zero (never) or at least {MinDeregisterAfter}, Consul's minimum (got {options.DeregisterCriticalServiceAfter}).");
        }

        if (options.RetryDelay <= TimeSpan.Zero)
        {
            failures.Add($"{Key("RetryDelay")} must be positive (got {options.RetryDelay}).");
        }

        if (options.MaxRetryDelay < options.RetryDelay)
        {
            failures.Add($"{Key("MaxRetryDelay")} must be at least {Key("RetryDelay")} (got {options.MaxRetryDelay}).");
        }
    }

    private static string Key(string property) => $"{ConsulPublishingOptions.SectionName}:{property}";
}
