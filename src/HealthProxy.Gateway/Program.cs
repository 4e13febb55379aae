using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Hosting;

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
