using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;

if (args is [HealthCheckCommand.Verb, ..])
{
    return await HealthCheckCommand.RunAsync(args, Console.Error);
}

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
