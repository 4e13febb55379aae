using System.Net;
using HealthProxy.Consul.Api;
using HealthProxy.Testing;

namespace HealthProxy.Consul.Tests.Client;

/// <summary>The client against Consul itself: the simulator by default, a real agent when CONSUL_HTTP_ADDR is set.</summary>
public sealed class ConsulClientRoundTripTests : IAsyncLifetime
{
    private ConsulTarget _target = null!;

    public async Task InitializeAsync() => _target = await ConsulTarget.CreateAsync();

    public async Task DisposeAsync() => await _target.DisposeAsync();

    private ConsulClient Client => _target.Client;

    private static ConsulServiceRegistration Registration(string name, string id, string checkId) => new()
    {
        Name = name,
        ID = id,
        Tags = ["primary", "v1"],
        Address = "127.0.0.1",
        Port = 8080,
        Meta = new Dictionary<string, string> { ["category"] = "payments" },
        Check = new ConsulCheckRegistration
        {
            CheckID = checkId,
            Name = "HealthProxy status",
            TTL = TimeSpan.FromSeconds(30),
            DeregisterCriticalServiceAfter = TimeSpan.FromMinutes(10),
        },
    };

    private async Task<ConsulServiceEntry?> EntryAsync(string name, string id)
    {
        var answer = await Client.GetHealthServiceAsync(name);
        return answer.Value.SingleOrDefault(e => e.Service!.ID == id);
    }

    [Fact]
    public async Task RegisterService_NewTtlCheck_ListedCriticalWithItsMetadata()
    {
        var name = ConsulTarget.UniqueName("reg");
        await Client.RegisterServiceAsync(Registration(name, name + "-1", name + "-ttl"));
        try
        {
            var answer = await Client.GetHealthServiceAsync(name);

            var entry = Assert.Single(answer.Value);
            Assert.True(answer.Index > 0);
            Assert.Equal(name + "-1", entry.Service!.ID);
            Assert.Equal(name, entry.Service.Service);
            Assert.Equal(8080, entry.Service.Port);
            Assert.Equal(["primary", "v1"], entry.Service.Tags!);
            Assert.Equal("payments", entry.Service.Meta!["category"]);
            var check = Assert.Single(entry.Checks!, c => c.CheckID == name + "-ttl");
            Assert.Equal("critical", check.Status);
            Assert.Contains(entry.Checks!, c => c.ServiceID == "");
        }
        finally
        {
            await Client.DeregisterServiceAsync(name + "-1");
        }
    }

    [Fact]
    public async Task UpdateTtlCheck_StatusAndOutput_ShowInHealthService()
    {
        var name = ConsulTarget.UniqueName("ttl");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        try
        {
            await Client.UpdateTtlCheckAsync(name + "-ttl", ConsulCheckStatus.Warning, """{"status":"degraded"}""");

            var entry = await EntryAsync(name, name);
            var check = Assert.Single(entry!.Checks!, c => c.CheckID == name + "-ttl");
            Assert.Equal("warning", check.Status);
            Assert.Equal("""{"status":"degraded"}""", check.Output);
        }
        finally
        {
            await Client.DeregisterServiceAsync(name);
        }
    }

    [Fact]
    public async Task ReRegister_KeepsCurrentCheckStatus()
    {
        var name = ConsulTarget.UniqueName("rereg");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        try
        {
            await Client.UpdateTtlCheckAsync(name + "-ttl", ConsulCheckStatus.Passing, "ok");
            await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl") with { Port = 9090 });

            var entry = await EntryAsync(name, name);
            Assert.Equal(9090, entry!.Service!.Port);
            Assert.Equal("passing", Assert.Single(entry.Checks!, c => c.CheckID == name + "-ttl").Status);
        }
        finally
        {
            await Client.DeregisterServiceAsync(name);
        }
    }

    [Fact]
    public async Task ServiceMaintenance_EnableThenDisable_AddsAndRemovesTheMaintenanceCheck()
    {
        var name = ConsulTarget.UniqueName("maint");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        try
        {
            await Client.EnableServiceMaintenanceAsync(name, "deploying v2 & more");
            var entry = await EntryAsync(name, name);
            var maintenance = Assert.Single(entry!.Checks!, c => c.CheckID == "_service_maintenance:" + name);
            Assert.Equal("critical", maintenance.Status);
            Assert.Equal("deploying v2 & more", maintenance.Notes);

            await Client.DisableServiceMaintenanceAsync(name);
            entry = await EntryAsync(name, name);
            Assert.DoesNotContain(entry!.Checks!, c => c.CheckID!.StartsWith("_service_maintenance:", StringComparison.Ordinal));
        }
        finally
        {
            await Client.DeregisterServiceAsync(name);
        }
    }

    [Fact]
    public async Task DeregisterService_RemovesTheInstance_AndUnknownServiceIsAnEmptyListWithAnIndex()
    {
        var name = ConsulTarget.UniqueName("dereg");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        await Client.DeregisterServiceAsync(name);

        var answer = await Client.GetHealthServiceAsync(name);

        Assert.Empty(answer.Value);
        Assert.True(answer.Index >= 1);
    }

    [Fact]
    public async Task CatalogServices_ListsTheRegisteredNameWithItsTags()
    {
        var name = ConsulTarget.UniqueName("cat");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        try
        {
            var answer = await Client.GetCatalogServicesAsync();

            Assert.Contains("primary", answer.Value[name]);
            Assert.True(answer.Index > 0);
        }
        finally
        {
            await Client.DeregisterServiceAsync(name);
        }
    }

    [Fact]
    public async Task GetHealthService_TagFilter_KeepsOnlyInstancesWithEveryTag()
    {
        var name = ConsulTarget.UniqueName("tag");
        await Client.RegisterServiceAsync(Registration(name, name + "-a", name + "-a-ttl"));
        await Client.RegisterServiceAsync(Registration(name, name + "-b", name + "-b-ttl") with { Tags = ["secondary"] });
        try
        {
            var answer = await Client.GetHealthServiceAsync(name, new HealthServiceQuery { Tags = ["PRIMARY", "v1"] });

            Assert.Equal(name + "-a", Assert.Single(answer.Value).Service!.ID);
        }
        finally
        {
            await Client.DeregisterServiceAsync(name + "-a");
            await Client.DeregisterServiceAsync(name + "-b");
        }
    }

    [Fact]
    public async Task GetHealthService_BlockingQuery_ReturnsWhenTheServiceChanges()
    {
        var name = ConsulTarget.UniqueName("block");
        await Client.RegisterServiceAsync(Registration(name, name, name + "-ttl"));
        try
        {
            var first = await Client.GetHealthServiceAsync(name);
            var blocked = Client.GetHealthServiceAsync(name, new HealthServiceQuery { Index = first.Index, Wait = TimeSpan.FromMinutes(1) });

            await Client.UpdateTtlCheckAsync(name + "-ttl", ConsulCheckStatus.Passing, "ok");
            var second = await blocked.WaitAsync(Eventually.DefaultTimeout);

            Assert.True(second.Index > first.Index);
            Assert.Equal("passing", Assert.Single(second.Value.Single().Checks!, c => c.CheckID == name + "-ttl").Status);
        }
        finally
        {
            await Client.DeregisterServiceAsync(name);
        }
    }

    [Fact]
    public async Task DeregisterService_UnknownId_Is404WithConsulsMessage()
    {
        var id = ConsulTarget.UniqueName("nope");

        var error = await Assert.ThrowsAsync<ConsulException>(() => Client.DeregisterServiceAsync(id));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal(ConsulErrorKind.HttpError, error.Kind);
        Assert.Contains("Unknown service ID", error.ConsulMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateTtlCheck_UnknownCheck_Is404()
    {
        var error = await Assert.ThrowsAsync<ConsulException>(() => Client.UpdateTtlCheckAsync(ConsulTarget.UniqueName("nocheck"), ConsulCheckStatus.Passing));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("Unknown check ID", error.Message, StringComparison.Ordinal);
    }
}
