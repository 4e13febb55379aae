using HealthProxy.Gateway.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace HealthProxy.Gateway.Tests.Configuration;

public sealed class ConfigFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("healthproxy-configfiles-").FullName;

    [Fact]
    public void Watch_ConfigFileNamed_UsedInsteadOfTheContentRootsAppsettings()
    {
        File.WriteAllText(Path.Combine(_root, "appsettings.json"), """{"ReverseProxy":{"Routes":{"baked":{"ClusterId":"c"}}},"Keep":"root"}""");
        var mounted = Directory.CreateDirectory(Path.Combine(_root, "mounted")).FullName;
        File.WriteAllText(Path.Combine(mounted, "appsettings.json"), """{"ReverseProxy":{"Routes":{"mounted":{"ClusterId":"c"}}}}""");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = _root,
            EnvironmentName = "Testing",
            Args = [$"--{ConfigFiles.ConfigFileKey}={Path.Combine(mounted, "appsettings.json")}"],
        });

        ConfigFiles.Watch(builder);

        Assert.Equal("c", builder.Configuration["ReverseProxy:Routes:mounted:ClusterId"]);
        Assert.Null(builder.Configuration["ReverseProxy:Routes:baked:ClusterId"]);
        Assert.Contains(builder.Configuration.Sources, s => s is WatchedJsonFileSource);
    }

    [Fact]
    public void Watch_ValuesSetThroughTheIndexer_Survive()
    {
        File.WriteAllText(Path.Combine(_root, "appsettings.json"), """{"Keep":"root"}""");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _root, EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Set:InCode"] = "yes";

        ConfigFiles.Watch(builder);

        Assert.Equal("http://127.0.0.1:0", builder.Configuration["urls"]);
        Assert.Equal("yes", builder.Configuration["Set:InCode"]);
        Assert.Equal("root", builder.Configuration["Keep"]);
        Assert.Contains(builder.Configuration.Sources, s => s is WatchedJsonFileSource);
    }

    [Fact]
    public void Watch_ConfigFileMissing_StartupErrorNamesTheFile()
    {
        var missing = Path.Combine(_root, "nowhere", "appsettings.json");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _root, EnvironmentName = "Testing", Args = [$"--{ConfigFiles.ConfigFileKey}={missing}"] });

        var problem = Assert.Throws<GatewayConfigurationException>(() => ConfigFiles.Watch(builder));

        Assert.Contains(missing, problem.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
