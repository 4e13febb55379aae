using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Lifecycle;

/// <summary>Validates <see cref="ServiceLifecycleOptions"/> at startup (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class ServiceLifecycleOptionsValidator : IValidateOptions<ServiceLifecycleOptions>
{
}
