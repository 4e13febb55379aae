using System.Net;
using HealthProxy.Health;
using HealthProxy.Testing;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>The fixture the backend scenarios count with: if it miscounted, their zero violations would mean nothing.</summary>
public sealed class FaultyBackendTests
{
    [Fact]
    public async Task Request_StatePublishedLongerThanItsGrace_CountedLate()
    {
        await using var backend = await FaultyBackend.StartAsync("x");
        using var client = new HttpClient { BaseAddress = new Uri(backend.Url) };
        backend.SetGrace(HealthState.Unhealthy, TimeSpan.Zero);
        backend.SetGrace(HealthState.Degraded, TimeSpan.FromHours(1));

        backend.SetHealth(HealthState.Degraded);
        await client.PostAsync("/orders", new StringContent("{}"));
        backend.SetHealth(HealthState.Unhealthy);
        await Eventually.HoldsAsync(async () => (await client.PostAsync("/orders", new StringContent("{}"))).IsSuccessStatusCode, "a write was served");

        Assert.Equal(1, backend.Received("POST", HealthState.Degraded));
        Assert.Equal(0, backend.Late("POST", HealthState.Degraded));
        Assert.Equal(1, backend.Received("POST", HealthState.Unhealthy));
        Assert.Equal(1, backend.Late("POST", HealthState.Unhealthy));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(FaultyBackend.HealthPath)).StatusCode);
        Assert.Equal(0, backend.Received("GET"));
    }

    [Fact]
    public async Task Kill_RefusesConnections_RestartServesOnTheSamePort()
    {
        await using var backend = await FaultyBackend.StartAsync("x");
        var port = backend.Port;
        using var client = new HttpClient { BaseAddress = new Uri(backend.Url) };
        Assert.True((await client.GetAsync("/items")).IsSuccessStatusCode);

        await backend.KillAsync();
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/items"));
        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);

        await backend.RestartAsync();
        Assert.Equal(port, backend.Port);
        Assert.True((await client.GetAsync("/items")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Hung_ReadsTheRequestAndNeverAnswers_KillAbortsIt()
    {
        await using var backend = await FaultyBackend.StartAsync("x");
        using var client = new HttpClient { BaseAddress = new Uri(backend.Url) };
        backend.Hang();

        var pending = client.PostAsync("/orders", new StringContent("{}"));
        await Eventually.HoldsAsync(() => backend.Received("POST") == 1, "the hung instance read the write");
        Assert.False(pending.IsCompleted);

        await backend.KillAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
    }
}
