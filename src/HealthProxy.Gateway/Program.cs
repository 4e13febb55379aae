using System.Text.Json;
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
catch (InvalidDataException ex) when (ex.InnerException?.InnerException is JsonException json)
{
    // The host's JSON files are read before the gateway's own watchers replace them: one line, file, line and byte.
    await Console.Error.WriteLineAsync($"{ex.Message} It is {WatchedJsonFileProvider.Describe(json)}.");
    return 2;
}
