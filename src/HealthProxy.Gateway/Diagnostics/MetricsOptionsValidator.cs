using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Diagnostics;

internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Path) || !options.Path.StartsWith('/'))
        {
            problems.Add($"{MetricsOptions.SectionName}:Path must start with '/' (got '{options.Path}').");
        }

        if (options.Port is { } port and (< 1 or > 65535))
        {
            problems.Add($"{MetricsOptions.SectionName}:Port must be 1-65535 (got {port}).");
        }

        if (string.IsNullOrWhiteSpace(options.Host))
        {
            problems.Add($"{MetricsOptions.SectionName}:Host must not be empty.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
