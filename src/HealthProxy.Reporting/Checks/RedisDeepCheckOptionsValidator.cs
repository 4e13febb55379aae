using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Checks;

/// <summary>Validates <see cref="RedisDeepCheckOptions"/> at startup (source-generated from its annotations).</summary>
[OptionsValidator]
internal sealed partial class RedisDeepCheckOptionsValidator : IValidateOptions<RedisDeepCheckOptions>
{
}
