using System.Diagnostics;
using HealthProxy.Reporting.Checks;
using HealthProxy.Reporting.Tests.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HealthProxy.Reporting.Tests.Checks;

public sealed class DownstreamCheckTests : IAsyncLifetime
{
    private TestDownstream _downstream = null!;

    public async Task InitializeAsync() => _downstream = await TestDownstream.StartAsync();

    public async Task DisposeAsync() => await _downstream.DisposeAsync();

    [Fact]
    public async Task CheckHealth_Answers200_Healthy()
    {
        await using var services = ServiceChecks.Build((checks, _) => checks.AddDownstreamCheck("payments", _downstream.Address("/ok"), critical: true));

        var result = await ServiceChecks.RunAsync(services, "payments");

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task CheckHealth_Answers500_Fails()
    {
        await using var services = ServiceChecks.Build((checks, _) => checks.AddDownstreamCheck("payments", _downstream.Address("/fail"), critical: true));

        var result = await ServiceChecks.RunAsync(services, "payments");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The health endpoint answered 500.", result.Description);
    }

    [Fact]
    public async Task CheckHealth_NothingListening_FailsWithoutExceptionText()
    {
        var uri = new Uri($"http://127.0.0.1:{FreePort.Next()}/health");
        await using var services = ServiceChecks.Build((checks, _) => checks.AddDownstreamCheck("payments", uri, critical: false));

        var result = await ServiceChecks.RunAsync(services, "payments");

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
        Assert.DoesNotContain("refused", result.Description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CheckHealth_SlowerThanTimeout_FailsWithinTheTimeout()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var services = ServiceChecks.Build((checks, _) =>
            checks.AddDownstreamCheck("payments", _downstream.Address("/slow"), critical: true, o => o.Timeout = timeout));

        var clock = Stopwatch.StartNew();
        var result = await ServiceChecks.RunAsync(services, "payments");
        clock.Stop();

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("Timed out after 300 ms.", result.Description);
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(50), timeout + TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task CheckHealth_CallerCancels_CancellationPropagates()
    {
        await using var services = ServiceChecks.Build((checks, _) => checks.AddDownstreamCheck("payments", _downstream.Address("/slow"), critical: true));
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ServiceChecks.RunAsync(services, "payments", caller.Token));
    }

    [Fact]
    public void Options_RelativeUri_RejectedNamingTheCheck()
    {
        using var services = ServiceChecks.Build((checks, _) => checks.AddDownstreamCheck("payments", new Uri("/health", UriKind.Relative), critical: true));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsMonitor<DownstreamCheckOptions>>().Get("payments"));

        Assert.Contains("'payments'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_Critical_TaggedAsCriticalDependency()
    {
        using var services = ServiceChecks.Build((checks, _) =>
        {
            checks.AddDownstreamCheck("payments", _downstream.Address("/ok"), critical: true);
            checks.AddDownstreamCheck("recommendations", _downstream.Address("/ok"), critical: false, tags: ["ui"]);
        });
        var registrations = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.ToDictionary(r => r.Name);

        Assert.Equal(["critical", "dependency"], registrations["payments"].Tags.Order());
        Assert.Equal(["dependency", "ui"], registrations["recommendations"].Tags.Order());
    }
}
