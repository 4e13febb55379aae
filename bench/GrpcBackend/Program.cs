// The gRPC benchmark's backend: bench.Echo/Ping over cleartext HTTP/2 only (prior knowledge, no HTTP/1.1 and
// so no upgrade), plus /healthz for the gateway's probes. Addresses and log levels come from the command line.
using GrpcBackend;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
});
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<EchoService>();
app.MapGet("/healthz", () => Results.Text("""{"status":"healthy"}""", "application/json"));
await app.RunAsync();
