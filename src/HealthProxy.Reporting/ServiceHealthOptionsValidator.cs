using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting;

/// <summary>Validates <see cref="ServiceHealthOptions"/> at startup (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class ServiceHealthOptionsValidator : IValidateOptions<ServiceHealthOptions>
{
}
