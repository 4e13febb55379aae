using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;
using Microsoft.Extensions.Options;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddHealthProxy();
    var app = builder.Build();
    app.MapHealthProxy();
    await app.RunAsync();
    return 0;
}
catch (GatewayConfigurationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("Invalid HealthProxy configuration:" + Environment.NewLine + string.Join(Environment.NewLine, ex.Failures.Select(f => "  - " + f)));
    return 2;
}
