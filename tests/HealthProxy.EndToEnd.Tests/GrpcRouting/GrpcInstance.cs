using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HealthProxy.EndToEnd.Tests.GrpcRouting;

/// <summary>How a <see cref="GrpcInstance"/> answers its calls.</summary>
public enum GrpcAnswer
{
    /// <summary>The reply, status OK.</summary>
    Ok,

    /// <summary>UNAVAILABLE before any message: the status in the response headers (trailers-only).</summary>
    UnavailableTrailersOnly,

    /// <summary>Response headers first, then UNAVAILABLE in the trailers.</summary>
    UnavailableInTrailers,

    /// <summary>NOT_FOUND, an application's answer about the request.</summary>
    NotFound,
}

/// <summary>
/// A real gRPC service instance (Grpc.AspNetCore) on loopback: the Inventory service and <c>/health</c> (the state the
/// test sets, for the gateway's probes) on one port, over h2c or TLS.
/// </summary>
public sealed class GrpcInstance : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();

    private GrpcInstance(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    /// <summary>The h2c address the gateway forwards to.</summary>
    public string Address { get; private set; } = "";

    public GrpcAnswer Answer { get; set; }

    /// <summary>The state <c>/health</c> reports.</summary>
    public string State { get; set; } = "healthy";

    private int _cancelled;

    /// <summary>Calls whose cancellation (the client's deadline, or the client going away) reached the instance.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    /// <summary>Calls received of <paramref name="method"/> (e.g. <c>GetItem</c>).</summary>
    public int Calls(string method) => _calls.GetValueOrDefault(method);

    /// <summary>
    /// Starts an instance: over h2c, or with <paramref name="certificate"/> over TLS, where ALPN picks HTTP/2.
    /// </summary>
    public static async Task<GrpcInstance> StartAsync(string name, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (certificate is not null)
            {
                kestrel.Listen(System.Net.IPAddress.Loopback, 0, o =>
                {
                    o.Protocols = HttpProtocols.Http1AndHttp2;
                    o.UseHttps(certificate);
                });
                return;
            }

            kestrel.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        GrpcInstance? instance = null;
        builder.Services.AddSingleton(_ => instance!);
        var app = builder.Build();
        instance = new GrpcInstance(name, app);
        app.MapGrpcService<InventoryService>();
        app.MapGet("/health", (HttpContext context) => Results.Json(new { status = instance.State }));
        await app.StartAsync();
        instance.Address = app.Urls.Single();
        return instance;
    }

    internal void CountCancelled() => Interlocked.Increment(ref _cancelled);

    internal void Count(string method) => _calls.AddOrUpdate(method, 1, (_, n) => n + 1);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class InventoryService(GrpcInstance instance) : Inventory.InventoryBase
    {
        public override Task<ItemReply> GetItem(ItemRequest request, ServerCallContext context) => UnaryAsync("GetItem", request, context);

        public override Task<ItemReply> PutItem(ItemRequest request, ServerCallContext context) => UnaryAsync("PutItem", request, context);

        public override Task<ItemReply> AddItem(ItemRequest request, ServerCallContext context) => UnaryAsync("AddItem", request, context);

        public override async Task WatchItems(ItemRequest request, IServerStreamWriter<ItemReply> responseStream, ServerCallContext context)
        {
            instance.Count("WatchItems");
            for (var i = 0; i < request.Count; i++)
            {
                await DelayAsync(request.DelayMs, context);
                await responseStream.WriteAsync(Reply($"{request.Id}-{i}"));
            }
        }

        public override async Task<ItemReply> Upload(IAsyncStreamReader<ItemRequest> requestStream, ServerCallContext context)
        {
            instance.Count("Upload");
            var received = 0;
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                received++;
            }

            var reply = Reply("upload");
            reply.Received = received;
            return reply;
        }

        public override async Task Chat(IAsyncStreamReader<ItemRequest> requestStream, IServerStreamWriter<ItemReply> responseStream, ServerCallContext context)
        {
            instance.Count("Chat");
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(Reply(message.Id));
            }
        }

        private async Task<ItemReply> UnaryAsync(string method, ItemRequest request, ServerCallContext context)
        {
            instance.Count(method);
            switch (instance.Answer)
            {
                case GrpcAnswer.UnavailableTrailersOnly:
                    throw new RpcException(new Status(StatusCode.Unavailable, "overloaded"));
                case GrpcAnswer.UnavailableInTrailers:
                    await context.WriteResponseHeadersAsync([]);
                    throw new RpcException(new Status(StatusCode.Unavailable, "overloaded"));
                case GrpcAnswer.NotFound:
                    throw new RpcException(new Status(StatusCode.NotFound, "no such item"));
            }

            await DelayAsync(request.DelayMs, context);
            context.ResponseTrailers.Add("x-served-by", instance.Name);
            return Reply(request.Id);
        }

        private async Task DelayAsync(int milliseconds, ServerCallContext context)
        {
            if (milliseconds <= 0)
            {
                return;
            }

            try
            {
                await Task.Delay(milliseconds, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                instance.CountCancelled();
                throw;
            }
        }

        private ItemReply Reply(string id) => new() { Id = id, ServedBy = instance.Name };
    }
}
