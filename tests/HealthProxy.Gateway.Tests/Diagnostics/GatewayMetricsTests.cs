using System.Diagnostics.Metrics;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;

namespace HealthProxy.Gateway.Tests.Diagnostics;

public sealed class GatewayMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly GatewayMetrics _metrics;
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, object?> Tags)> _recorded = [];
    private bool _keep = true;

    public GatewayMetricsTests()
    {
        _metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _metrics.Meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _listener.Start();
    }

    [Fact]
    public void Request_Listened_RecordsOneMeasurementWithBoundedTags()
    {
        _metrics.Request("catalog", "catalog-cluster", RequestKind.Write, GatewayMetrics.StatusClass(503), 0.25);

        var (instrument, value, tags) = Assert.Single(_recorded);
        Assert.Equal("healthproxy.request.duration", instrument);
        Assert.Equal(0.25, value);
        Assert.Equal(new Dictionary<string, object?> { ["route"] = "catalog", ["cluster"] = "catalog-cluster", ["request_kind"] = "write", ["outcome"] = "5xx" }, tags);
    }

    [Fact]
    public void Request_Listened_AllocatesNothing()
    {
        _keep = false;
        for (var i = 0; i < 100; i++)
        {
            _metrics.Request("catalog", "catalog", RequestKind.Read, GatewayMetrics.StatusClass(200), 0.001);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _metrics.Request("catalog", "catalog", RequestKind.Read, GatewayMetrics.StatusClass(200 + (i % 400)), 0.001);
        }

        // Per request, not in total: tiered JIT may allocate a few one-off bytes on this thread while it
        // swaps in optimised code, which is not a per-request cost.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated / 10_000 == 0, $"{allocated} bytes over 10,000 requests: something allocates per request.");
    }

    [Theory]
    [InlineData(101, "1xx")]
    [InlineData(204, "2xx")]
    [InlineData(304, "3xx")]
    [InlineData(429, "4xx")]
    [InlineData(599, "5xx")]
    [InlineData(0, "error")]
    [InlineData(600, "error")]
    public void StatusClass_Code_IsItsClass(int code, string expected) => Assert.Equal(expected, GatewayMetrics.StatusClass(code));

    [Fact]
    public void CascadingFailure_Recorded_CountsTheEventAndTheAffected()
    {
        _metrics.CascadingFailure("postgres", 3);

        Assert.Equal(
            [("healthproxy.cascading_failures", 1d), ("healthproxy.cascading_failures.affected", 3d)],
            _recorded.Select(r => (r.Instrument, r.Value)).Order());
        Assert.All(_recorded, r => Assert.Equal("postgres", r.Tags["cluster"]));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_keep)
        {
            _recorded.Add((instrument.Name, value, new Dictionary<string, object?>(tags.ToArray())));
        }
    }
}
