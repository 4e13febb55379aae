using HealthProxy.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace HealthProxy.Gateway.Tests.Configuration;

/// <summary>A gateway built from nothing but <paramref name="settings"/>, not yet mapped or started, for config tests.</summary>
internal static class UnstartedGateway
{
    public static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HealthProxy:Shutdown:DrainDelay"] = "00:00:00" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddHealthProxy();
        return builder.Build();
    }
}
