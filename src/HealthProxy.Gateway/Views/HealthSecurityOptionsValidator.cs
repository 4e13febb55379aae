using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Views;

/// <summary>Rejects network entries that do not parse, naming the key, at startup.</summary>
internal sealed class HealthSecurityOptionsValidator : IValidateOptions<HealthSecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthSecurityOptions options)
    {
        var failures = new List<string>();
        Check(options.AllowedNetworks, nameof(HealthSecurityOptions.AllowedNetworks), failures);
        Check(options.TrustedProxies, nameof(HealthSecurityOptions.TrustedProxies), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(IList<string> entries, string key, List<string> failures)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (!NetworkList.TryParse(entries[i], out _))
            {
                failures.Add($"{HealthSecurityOptions.SectionName}:{key}:{i}: '{entries[i]}' is not an IP address or CIDR network (e.g. 10.0.0.0/8).");
            }
        }
    }
}
