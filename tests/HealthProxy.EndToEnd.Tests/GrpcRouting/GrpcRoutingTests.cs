using Grpc.Core;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Resilience;
using HealthProxy.Health;
using HealthProxy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.EndToEnd.Tests.GrpcRouting;

/// <summary>
/// gRPC through the gateway, end to end: real Grpc.AspNetCore instances behind it, a real Grpc.Net.Client in front
/// of its h2c listener. Reads and writes by method, failures from grpc-status, safe retries, streams and deadlines.
/// </summary>
public sealed class GrpcRoutingTests : IAsyncLifetime
{
    private const string Descriptor = "grpc/inventory.pb";

    private GrpcInstance _a = null!;
    private GrpcInstance _b = null!;

    public async Task InitializeAsync()
    {
        _a = await GrpcInstance.StartAsync("a");
        _b = await GrpcInstance.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task UnaryCall_ThroughTheH2cListener_ReachesAnInstanceWithItsTrailers()
    {
        await using var gateway = await StartAsync();

        using var call = gateway.Client.GetItemAsync(new ItemRequest { Id = "x" });
        var reply = await call;

        Assert.Equal("x", reply.Id);
        Assert.Contains(reply.ServedBy, new[] { "a", "b" });
        Assert.Equal(reply.ServedBy, call.GetTrailers().GetValue("x-served-by"));
    }

    [Theory]
    [InlineData("metadata")]
    [InlineData("descriptor")]
    public async Task DegradedInstance_ServesReadMethodsAndNoWriteMethods(string classifiedBy)
    {
        _b.State = "degraded";
        var route = classifiedBy == "metadata"
            ? new Dictionary<string, string?> { [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcReadMethods}"] = "healthproxy.test.Inventory/GetItem" }
            : new Dictionary<string, string?> { [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor };
        await using var gateway = await StartAsync(route);
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Degraded));

        var reads = new List<string>();
        var writes = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            reads.Add((await gateway.Client.GetItemAsync(new ItemRequest { Id = "r" })).ServedBy);
            writes.Add((await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" })).ServedBy);
        }

        Assert.Contains("b", reads);
        Assert.Contains("a", reads);
        Assert.All(writes, servedBy => Assert.Equal("a", servedBy));
        Assert.Equal(0, _b.Calls("AddItem"));
    }

    [Fact]
    public async Task DescriptorSet_WildcardInMetadata_MakesEveryMethodOfTheServiceARead()
    {
        _b.State = "degraded";
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor,
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcReadMethods}"] = "healthproxy.test.Inventory/*",
        });
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Degraded));

        for (var i = 0; i < 60 && _b.Calls("AddItem") == 0; i++)
        {
            await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" });
        }

        Assert.True(_b.Calls("AddItem") > 0, "the wildcard made AddItem a read, which a degraded instance may serve");
    }

    [Fact]
    public async Task UnavailableInTrailers_EjectsTheInstance_AndNotFoundNever()
    {
        _b.Answer = GrpcAnswer.UnavailableInTrailers;
        _a.Answer = GrpcAnswer.NotFound;
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:Metadata:HealthProxy.OutlierDetection.ConsecutiveFailures"] = "3",

            // Alternate, so both answers are seen before b's third failure ejects it (a random pick may hit b three times first).
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:LoadBalancingPolicy"] = "RoundRobin",
        });
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));
        var detector = gateway.Host.App.Services.GetRequiredService<OutlierDetector>();
        Assert.True(detector.TryGetCluster(GrpcGateway.Cluster, out var cluster));
        Assert.True(cluster.TryGet("b", out var b));
        Assert.True(cluster.TryGet("a", out var a));

        var statuses = new List<StatusCode>();
        for (var i = 0; i < 40 && !b.IsEjected; i++)
        {
            // Writes: never retried, so every answer reaches the client as the instance gave it.
            var error = await Assert.ThrowsAsync<RpcException>(async () => await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" }));
            statuses.Add(error.StatusCode);
        }

        Assert.True(b.IsEjected, "three UNAVAILABLE trailers in a row eject the instance");
        Assert.Contains(StatusCode.Unavailable, statuses);
        Assert.Contains(StatusCode.NotFound, statuses);
        for (var i = 0; i < 10; i++)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" }));
            Assert.Equal(StatusCode.NotFound, error.StatusCode);
        }

        Assert.False(a.IsEjected, "NOT_FOUND describes the request; it never counts against the instance");
    }

    [Fact]
    public async Task TrailersOnlyUnavailable_ReadsAreRetriedInvisibly_WritesNever()
    {
        _b.Answer = GrpcAnswer.UnavailableTrailersOnly;
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor,

            // Keep b in the pool: this test is about retries, not ejection.
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:Metadata:HealthProxy.OutlierDetection.Enabled"] = "false",
        });
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));

        for (var i = 0; i < 30; i++)
        {
            var reply = await gateway.Client.GetItemAsync(new ItemRequest { Id = $"r{i}" });
            Assert.Equal("a", reply.ServedBy);
            Assert.Equal($"r{i}", reply.Id);
        }

        Assert.True(_b.Calls("GetItem") > 0, "some reads went to b first and were retried on a");
        Assert.Equal(30, _a.Calls("GetItem"));

        var failed = 0;
        for (var i = 0; i < 30; i++)
        {
            try
            {
                await gateway.Client.AddItemAsync(new ItemRequest { Id = "w" });
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable)
            {
                failed++;
            }
        }

        Assert.True(failed > 0, "writes that reached b got its UNAVAILABLE");
        Assert.Equal(failed, _b.Calls("AddItem"));
        Assert.Equal(30 - failed, _a.Calls("AddItem"));
    }

    [Fact]
    public async Task TrailersOnlyUnavailable_IdempotentMethodIsRetried()
    {
        _b.Answer = GrpcAnswer.UnavailableTrailersOnly;
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor,
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:Metadata:HealthProxy.OutlierDetection.Enabled"] = "false",
        });
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("a", (await gateway.Client.PutItemAsync(new ItemRequest { Id = "p" })).ServedBy);
        }

        Assert.True(_b.Calls("PutItem") > 0);
    }

    [Fact]
    public async Task StreamingCalls_ServerClientAndDuplex_SurviveTheGateway()
    {
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor,
        });

        using var watch = gateway.Client.WatchItems(new ItemRequest { Id = "s", Count = 5, DelayMs = 20 });
        var streamed = new List<string>();
        await foreach (var reply in watch.ResponseStream.ReadAllAsync())
        {
            streamed.Add(reply.Id);
        }

        Assert.Equal(["s-0", "s-1", "s-2", "s-3", "s-4"], streamed);

        using var upload = gateway.Client.Upload();
        for (var i = 0; i < 7; i++)
        {
            await upload.RequestStream.WriteAsync(new ItemRequest { Id = $"u{i}" });
        }

        await upload.RequestStream.CompleteAsync();
        Assert.Equal(7, (await upload).Received);

        using var chat = gateway.Client.Chat();
        var echoed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            await chat.RequestStream.WriteAsync(new ItemRequest { Id = $"c{i}" });
            Assert.True(await chat.ResponseStream.MoveNext(CancellationToken.None));
            echoed.Add(chat.ResponseStream.Current.Id);
        }

        await chat.RequestStream.CompleteAsync();
        Assert.False(await chat.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(["c0", "c1", "c2"], echoed);
    }

    [Fact]
    public async Task Deadline_HoldsThroughTheGateway_AndReachesTheInstance()
    {
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            [$"ReverseProxy:Routes:grpc:Metadata:{HealthProxyMetadata.GrpcDescriptorSet}"] = Descriptor,
        });
        await gateway.Host.WaitForStatesAsync(GrpcGateway.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));

        // Warm: the gateway's connections to both instances exist, so the deadline is spent on the call alone.
        await gateway.Client.GetItemAsync(new ItemRequest { Id = "warm" });
        await gateway.Client.GetItemAsync(new ItemRequest { Id = "warm" });

        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await gateway.Client.GetItemAsync(new ItemRequest { Id = "slow", DelayMs = 10_000 }, deadline: DateTime.UtcNow.AddSeconds(1)));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"the call ended at its deadline, not the instance's delay ({started.Elapsed})");
        await Eventually.HoldsAsync(() => _a.Cancelled + _b.Cancelled == 1, "the instance saw the call cancelled (grpc-timeout forwarded)");
        var detector = gateway.Host.App.Services.GetRequiredService<OutlierDetector>();
        Assert.True(detector.TryGetCluster(GrpcGateway.Cluster, out var cluster));
        Assert.All(new[] { "a", "b" }, id => Assert.True(cluster.TryGet(id, out var health) && !health.IsEjected));
    }

    [Theory]
    [InlineData(HealthProxyMetadata.GrpcReadMethods, "Inventory", "ReverseProxy:Routes:grpc:Metadata:HealthProxy.GrpcReadMethods")]
    [InlineData(HealthProxyMetadata.GrpcDescriptorSet, "grpc/missing.pb", "ReverseProxy:Routes:grpc:Metadata:HealthProxy.GrpcDescriptorSet")]
    [InlineData(HealthProxyMetadata.GrpcDescriptorSet, "appsettings.json", "ReverseProxy:Routes:grpc:Metadata:HealthProxy.GrpcDescriptorSet")]
    public async Task BadGrpcRouteMetadata_StopsStartupNamingTheKey(string key, string value, string named)
    {
        var settings = GrpcGateway.Settings([_a], new Dictionary<string, string?> { [$"ReverseProxy:Routes:grpc:Metadata:{key}"] = value });
        if (value == "appsettings.json")
        {
            settings[$"ReverseProxy:Routes:grpc:Metadata:{key}"] = Path.Combine(AppContext.BaseDirectory, "HealthProxy.EndToEnd.Tests.deps.json");
        }

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public async Task GrpcFailureCodes_AnApplicationCode_StopsStartupNamingTheKey()
    {
        var settings = GrpcGateway.Settings([_a], new Dictionary<string, string?>
        {
            [$"ReverseProxy:Clusters:{GrpcGateway.Cluster}:Metadata:HealthProxy.OutlierDetection.GrpcFailureCodes"] = "UNAVAILABLE,NOT_FOUND",
        });

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("HealthProxy.OutlierDetection.GrpcFailureCodes", error.Message);
        Assert.Contains("NOT_FOUND", error.Message);
    }

    [Theory]
    [InlineData("70000", "HealthProxy:H2c:Port must be 0-65535")]
    [InlineData("h2c", "HealthProxy:H2c:Port")]
    public async Task BadH2cPort_StopsStartupNamingTheKey(string port, string named)
    {
        var settings = GrpcGateway.Settings([_a], new Dictionary<string, string?> { ["HealthProxy:H2c:Port"] = port });

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(named, error.Message);
    }

    private Task<GrpcGateway> StartAsync(IDictionary<string, string?>? extra = null) =>
        GrpcGateway.StartAsync(GrpcGateway.Settings([_a, _b], extra));
}
