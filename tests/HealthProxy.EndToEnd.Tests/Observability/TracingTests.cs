using System.Collections;
using System.Diagnostics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Health;
using HealthProxy.Testing;
using HealthProxy.Testing.Gateway;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace HealthProxy.EndToEnd.Tests.Observability;

/// <summary>
/// OpenTelemetry tracing end to end, through the SDK's in-memory exporter beside the OTLP one: on only with an
/// OTLP endpoint; a proxied request's server span carries the gateway's health attributes, each forward is a client
/// span under it, and the instance receives a <c>traceparent</c> of that trace. Serial: a tracer listens process-wide.
/// </summary>
[Collection(SerialObservability.Name)]
public sealed class TracingTests : IDisposable
{
    private readonly Backend _a = Backend.Start("a");
    private readonly Backend _b = Backend.Start("b");
    private readonly Spans _spans = new();

    [Fact]
    public async Task Traced_RetriedRead_ServerSpanCarriesHealthAttributesAndTraceparentReachesEachInstance()
    {
        _b.FailWith(503);
        await using var gateway = await StartAsync(traced: true);

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 2);

        Assert.All(served, s => Assert.Equal("a", s));
        await Eventually.HoldsAsync(() => _spans.Snapshot().Any(IsRetried), "the retried request's server span was exported");
        var spans = _spans.Snapshot();
        var server = spans.Single(IsRetried);
        Assert.Equal("read", server.GetTagItem(GatewayTracing.RequestKind));
        Assert.Equal("svc", server.GetTagItem(GatewayTracing.Cluster));
        Assert.Equal(false, server.GetTagItem(GatewayTracing.Fallback));
        Assert.Equal("a", server.GetTagItem(GatewayTracing.Destination));
        Assert.Equal("healthy", server.GetTagItem(GatewayTracing.InstanceState));
        Assert.Equal(false, server.GetTagItem(GatewayTracing.Ejected));
        var retry = Assert.Single(server.Events, e => e.Name == GatewayTracing.RetryEvent);
        Assert.Contains(retry.Tags, t => t.Key == GatewayTracing.RetryReason && (string?)t.Value == "status");

        // One client span per forward, under the server span; the instances saw this trace's traceparent.
        var forwards = spans.Where(s => s.Kind == ActivityKind.Client && s.ParentSpanId == server.SpanId).ToList();
        Assert.Equal(2, forwards.Count);
        Assert.Contains(Traceparents(_b), t => forwards.Any(f => t == $"00-{server.TraceId}-{f.SpanId}-01"));
        Assert.Contains(Traceparents(_a), t => forwards.Any(f => t == $"00-{server.TraceId}-{f.SpanId}-01"));

        // Probes run outside any request and are not traced unless asked.
        Assert.True(_a.ProbesReceived > 0);
        Assert.DoesNotContain(spans, s => s.Kind == ActivityKind.Client && s.Parent is null && s.ParentSpanId == default);
    }

    [Fact]
    public async Task NoOtlpEndpoint_NothingTraced()
    {
        await using var gateway = await StartAsync(traced: false);

        var served = await gateway.SendAsync(HttpMethod.Get, "/items", 4);

        Assert.Equal(4, served.Count(s => s is "a" or "b"));
        Assert.False(gateway.App.Services.GetRequiredService<GatewayTracing>().Enabled);
        Assert.Empty(_spans.Snapshot());
        Assert.DoesNotContain(Traceparents(_a), t => t is not null);
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private static bool IsRetried(Activity span) => span.Kind == ActivityKind.Server && span.GetTagItem(GatewayTracing.Attempt) is 2;

    private static List<string?> Traceparents(Backend backend) =>
        [.. backend.Server.LogEntries
            .Where(e => e.RequestMessage.Path != Backend.HealthPath)
            .Select(e => (e.RequestMessage.Headers ?? new Dictionary<string, WireMock.Types.WireMockList<string>>())
                .FirstOrDefault(h => string.Equals(h.Key, "traceparent", StringComparison.OrdinalIgnoreCase)).Value?.ToString())];

    private async Task<GatewayHost> StartAsync(bool traced)
    {
        var settings = GatewaySettings.For([_a, _b]);
        settings["HealthProxy:OutlierDetection:ConsecutiveFailures"] = "100";
        settings["HealthProxy:OutlierDetection:FailureRatio"] = "0";
        if (traced)
        {
            // Nothing listens there: the OTLP exporter's batches fail quietly, the in-memory exporter gets every span.
            settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = ResilienceSettings.RefusingAddress();
            settings["OTEL_TRACES_SAMPLER"] = "always_on";
        }

        var gateway = await GatewayHost.StartAsync(settings, configure: builder => builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_spans)));
        await gateway.WaitStartedAsync();
        await gateway.WaitForStatesAsync(GatewaySettings.Cluster, ("a", HealthState.Healthy), ("b", HealthState.Healthy));
        return gateway;
    }

    /// <summary>The exported spans, written by the exporter's thread and read by the test's.</summary>
    private sealed class Spans : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
