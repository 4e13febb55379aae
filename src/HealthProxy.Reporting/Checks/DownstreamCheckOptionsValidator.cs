using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Checks;

/// <summary>Validates <see cref="DownstreamCheckOptions"/> at startup: the annotations, and an absolute http(s) URI.</summary>
internal sealed class DownstreamCheckOptionsValidator : IValidateOptions<DownstreamCheckOptions>
{
    private readonly DownstreamCheckOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, DownstreamCheckOptions options)
    {
        var result = _annotations.Validate(name, options);
        if (result.Failed)
        {
            return result;
        }

        return options.Uri is { IsAbsoluteUri: true } uri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{nameof(DownstreamCheckOptions)} '{name}': {nameof(DownstreamCheckOptions.Uri)} must be an absolute http or https URI.");
    }
}
