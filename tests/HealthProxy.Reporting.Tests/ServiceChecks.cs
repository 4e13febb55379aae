using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Tests;

/// <summary>Builds a container with the reporting services and runs one registered check directly.</summary>
internal static class ServiceChecks
{
    public static ServiceProvider Build(Action<IHealthChecksBuilder, IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<Microsoft.Extensions.Hosting.IHostEnvironment>(new TestEnvironment());
        configure(services.AddServiceHealth(o => o.ServiceName = TestServiceHost.ServiceName), services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    public static Task<HealthCheckResult> RunAsync(IServiceProvider services, string name, CancellationToken cancellationToken = default)
    {
        var registration = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == name);
        var check = registration.Factory(services);
        return check.CheckHealthAsync(new HealthCheckContext { Registration = registration }, cancellationToken);
    }

    private sealed class TestEnvironment : Microsoft.Extensions.Hosting.IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "test";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
