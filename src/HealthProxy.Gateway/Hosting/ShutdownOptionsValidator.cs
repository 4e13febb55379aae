using System.Globalization;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Hosting;

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var problems = new List<string>();
        if (options.DrainDelay < TimeSpan.Zero || options.DrainDelay > ShutdownOptions.MaxDrainDelay)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{ShutdownOptions.SectionName}:DrainDelay must be between 00:00:00 and {ShutdownOptions.MaxDrainDelay:c} (got {options.DrainDelay:c})."));
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > ShutdownOptions.MaxTimeout)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{ShutdownOptions.SectionName}:Timeout must be positive and at most {ShutdownOptions.MaxTimeout:c} (got {options.Timeout:c})."));
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
