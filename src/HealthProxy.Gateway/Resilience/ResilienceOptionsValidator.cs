using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Resilience;

internal sealed class ResilienceOptionsValidator : IValidateOptions<OutlierDetectionOptions>, IValidateOptions<RetryOptions>
{
    public ValidateOptionsResult Validate(string? name, OutlierDetectionOptions options) =>
        Result(options.Validate(OutlierDetectionOptions.SectionName + ":"));

    public ValidateOptionsResult Validate(string? name, RetryOptions options) => Result(options.Validate());

    private static ValidateOptionsResult Result(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }
}
