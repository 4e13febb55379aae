// Bare YARP: the same ReverseProxy configuration schema as HealthProxy, no health routing, no extra endpoints.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
