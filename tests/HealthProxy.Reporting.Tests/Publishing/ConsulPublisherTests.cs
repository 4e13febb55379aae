using System.Net;
using System.Text;
using HealthProxy.Consul;
using HealthProxy.Consul.Discovery;
using HealthProxy.Health;
using HealthProxy.Reporting.Publishing;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HealthProxy.Reporting.Tests.Publishing;

public sealed class ConsulPublisherTests
{
    [Fact]
    public async Task HostStarted_RegistersInstanceWithTtlCheckMetaAndServerPort()
    {
        await using var host = await PublishingHost.StartAsync(o =>
        {
            o.Tags.Add("v2");
            o.Tags.Add("primary");
            o.Meta["version"] = "2";
            o.Category = "checkout";
        });

        await Eventually.HoldsAsync(async () => (await host.TtlCheckAsync())?.Output is { Length: > 0 }, "the first update is published");

        var entry = (await host.EntryAsync())!;
        var service = entry.Service!;
        Assert.Equal((PublishingHost.ServiceId, TestServiceHost.ServiceName, "127.0.0.1", host.ServicePort), (service.ID, service.Service, service.Address, service.Port));
        Assert.Equal(["v2", "primary"], service.Tags);
        Assert.Equal("checkout", service.Meta![ConsulInstanceMapper.CategoryMetaKey]);
        Assert.Equal("2", service.Meta["version"]);
        var check = (await host.TtlCheckAsync())!;
        Assert.Equal(("service:orders-1:health", "ttl", "orders health"), (check.CheckID, check.Type, check.Name));

        // Starting: critical, and the output says why.
        Assert.Equal(ConsulCheckStatusNames.Critical, check.Status);
        Assert.Equal(HealthState.Starting, Parse(check.Output).Status);
        Assert.Null(await host.MaintenanceCheckAsync());
        Assert.Contains(host.Consul.Requests, r => r is { Method: "PUT", Path: "/v1/agent/service/register" } && r.Query.Contains("replace-existing-checks", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(HealthStatus.Healthy, HealthStatus.Healthy, ConsulCheckStatusNames.Passing, HealthState.Healthy)]
    [InlineData(HealthStatus.Healthy, HealthStatus.Unhealthy, ConsulCheckStatusNames.Warning, HealthState.Degraded)]
    [InlineData(HealthStatus.Unhealthy, HealthStatus.Healthy, ConsulCheckStatusNames.Critical, HealthState.Unhealthy)]
    public async Task Ready_HealthChanges_TtlStatusFollowsOnNextUpdate(HealthStatus own, HealthStatus cache, string expectedStatus, HealthState expectedState)
    {
        await using var host = await PublishingHost.StartAsync();
        await host.MarkReadyAndPassingAsync();
        host.Health.Own = own;
        host.Health.Cache = cache;

        await host.PumpUntilAsync(async () => (await host.TtlCheckAsync())?.Status == expectedStatus && Parse((await host.TtlCheckAsync())!.Output).Status == expectedState, $"the check is {expectedStatus}");

        // What the gateway makes of it.
        Assert.True(ConsulInstanceMapper.TryMap((await host.EntryAsync())!, out var instance, out _));
        Assert.Equal(expectedState, instance.State);
        Assert.Equal(HttpStatusCode.OK, await host.WorkAsync());
    }

    [Fact]
    public async Task BeginDraining_EnablesMaintenanceAndCriticalAtOnce_WithoutWaitingForTheInterval()
    {
        await using var host = await PublishingHost.StartAsync();
        await host.MarkReadyAndPassingAsync();

        host.Lifecycle.BeginDraining(); // no clock moves: only the lifecycle change can trigger the update

        await host.TtlStatusIsAsync(ConsulCheckStatusNames.Critical, "draining is published critical");
        var maintenance = await host.MaintenanceCheckAsync();
        Assert.NotNull(maintenance);
        Assert.Equal(ConsulPublisher.DrainingReason, maintenance.Notes);
        Assert.Equal(HealthState.Draining, Parse((await host.TtlCheckAsync())!.Output).Status);
        Assert.True(ConsulInstanceMapper.TryMap((await host.EntryAsync())!, out var instance, out _));
        Assert.Equal(HealthState.Draining, instance.State);
    }

    [Fact]
    public async Task HostStopping_MaintenanceThenServesThroughDrainDelayThenDeregisters()
    {
        var drainDelay = TimeSpan.FromSeconds(10);
        await using var host = await PublishingHost.StartAsync(drainDelay: drainDelay);
        await host.MarkReadyAndPassingAsync();

        var stopping = host.App.StopAsync();

        await Eventually.HoldsAsync(async () => await host.MaintenanceCheckAsync() is not null, "maintenance is on while draining");
        Assert.False(stopping.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, await host.WorkAsync());
        Assert.NotNull(await host.EntryAsync());

        host.HostTime.Advance(drainDelay);
        await stopping.WaitAsync(Eventually.DefaultTimeout);

        Assert.Null(await host.EntryAsync());
        var requests = host.Consul.Requests.ToList();
        var maintenanceOn = requests.FindIndex(r => r.Path == "/v1/agent/service/maintenance/" + PublishingHost.ServiceId && r.Query.Contains("enable=true", StringComparison.Ordinal));
        var deregistered = requests.FindIndex(r => r.Path == "/v1/agent/service/deregister/" + PublishingHost.ServiceId && r.StatusCode == 200);
        Assert.InRange(maintenanceOn, 0, deregistered - 1);
    }

    [Fact]
    public async Task ConsulDown_ServiceKeepsServingAndBacksOff_ThenRegistersAgainWhenConsulReturns()
    {
        await using var host = await PublishingHost.StartAsync();
        await host.MarkReadyAndPassingAsync();

        await host.Consul.StopAsync();
        host.Consul.DeregisterService(PublishingHost.ServiceId); // and it comes back without the instance
        await host.PumpUntilAsync(() => Task.FromResult(host.Publisher.ConsecutiveFailures >= 3), "the publisher fails and retries");

        Assert.Equal(HttpStatusCode.OK, await host.WorkAsync());
        using (var ready = await host.Client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await host.Consul.RestartAsync();
        await host.PumpUntilAsync(async () => (await host.TtlCheckAsync())?.Status == ConsulCheckStatusNames.Passing, "the instance is registered again and passing");
        await Eventually.HoldsAsync(() => host.Publisher.ConsecutiveFailures == 0, "the publisher has recovered");
    }

    [Fact]
    public async Task ConsulForgetsInstance_TtlUpdateAnswers404_RegistersAgain()
    {
        await using var host = await PublishingHost.StartAsync();
        await host.MarkReadyAndPassingAsync();

        Assert.True(host.Consul.DeregisterService(PublishingHost.ServiceId));
        await host.PumpUntilAsync(async () => (await host.TtlCheckAsync())?.Status == ConsulCheckStatusNames.Passing, "the instance is back and passing");

        Assert.Contains(host.Consul.Requests, r => r.Path.StartsWith("/v1/agent/check/update/", StringComparison.Ordinal) && r.StatusCode == 404);
        Assert.True(host.Consul.Requests.Count(r => r.Path == "/v1/agent/service/register") >= 2);
        Assert.Equal(0, host.Publisher.ConsecutiveFailures);
    }

    [Fact]
    public async Task Crash_NoDeregistration_TtlExpiryMakesCheckCriticalThenConsulRemovesInstance()
    {
        await using var host = await PublishingHost.StartAsync(o => o.DeregisterCriticalServiceAfter = TimeSpan.FromMinutes(1));
        await host.MarkReadyAndPassingAsync();

        await host.CrashAsync();
        Assert.DoesNotContain(host.Consul.Requests, r => r.Path.StartsWith("/v1/agent/service/deregister/", StringComparison.Ordinal));

        host.ConsulTime.Advance(PublishingHost.Ttl - TimeSpan.FromSeconds(1));
        Assert.Equal(ConsulCheckStatusNames.Passing, (await host.TtlCheckAsync())!.Status);
        host.ConsulTime.Advance(TimeSpan.FromSeconds(1));
        var expired = (await host.TtlCheckAsync())!;
        Assert.Equal(ConsulCheckStatusNames.Critical, expired.Status);
        Assert.StartsWith("TTL expired", expired.Output, StringComparison.Ordinal);

        // DeregisterCriticalServiceAfter (1 minute) plus a run of Consul's 30-second reaper.
        for (var i = 0; i < 4; i++)
        {
            host.ConsulTime.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.Null(await host.EntryAsync());
    }

    [Fact]
    public async Task ManyDependencies_OutputFitsConsulsLimitAndStillParses()
    {
        var failing = new string('z', 40) + "-dependency-that-fails";
        await using var host = await PublishingHost.StartAsync(checks: checks =>
        {
            for (var i = 0; i < 300; i++)
            {
                checks.AddCheck($"dependency-with-a-long-name-{i:D3}", () => HealthCheckResult.Healthy(), tags: [ServiceHealthTags.Dependency]);
            }

            checks.AddCheck(failing, () => HealthCheckResult.Unhealthy(), tags: [ServiceHealthTags.Dependency]);
        });
        host.Lifecycle.MarkReady();

        await host.TtlStatusIsAsync(ConsulCheckStatusNames.Warning, "one failed non-critical dependency is published as warning");

        var output = (await host.TtlCheckAsync())!.Output!;
        Assert.InRange(Encoding.UTF8.GetByteCount(output), 1, CheckOutput.MaxBytes);
        var document = Parse(output);
        Assert.Equal(HealthState.Degraded, document.Status);
        Assert.Equal(HealthState.Unhealthy, document.Dependencies[failing].Status);
        Assert.InRange(document.Dependencies.Count, 2, 300);
    }

    private static StatusDocument Parse(string? output)
    {
        Assert.True(StatusDocumentJson.TryParse(Encoding.UTF8.GetBytes(output ?? ""), out var document), $"not a status document: {output}");
        return document!;
    }
}
