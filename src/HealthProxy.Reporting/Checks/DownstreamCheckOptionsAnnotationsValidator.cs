using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Checks;

/// <summary>The annotations of <see cref="DownstreamCheckOptions"/>, source-generated.</summary>
[OptionsValidator]
internal sealed partial class DownstreamCheckOptionsAnnotationsValidator : IValidateOptions<DownstreamCheckOptions>
{
}
