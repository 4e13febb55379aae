using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>Validates <see cref="ServiceHealthEndpointOptions"/> at startup (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class ServiceHealthEndpointOptionsValidator : IValidateOptions<ServiceHealthEndpointOptions>
{
}
