using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using CsCheck;
using HealthProxy.Gateway.Configuration;
using HealthProxy.Gateway.Diagnostics;
using HealthProxy.Gateway.Health;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.State;
using HealthProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace HealthProxy.Gateway.Tests.Fuzz;

/// <summary>
/// A probe body is whatever an instance sends. The parser must give one of the five states for any
/// bytes (a known JSON status, a plain-text status, or the status code alone when it cannot tell), and
/// the prober must never read past <see cref="ProbeOptions.MaxBodyBytes"/>. CsCheck prints the seed of a failing case.
/// </summary>
public sealed class ProbeResponseParserFuzzTests : IDisposable
{
    private const int Iterations = 3_000;

    private static readonly Gen<int> StatusCodes = Gen.OneOf(Gen.Int[100, 599], Gen.Int, Gen.OneOf(200, 204, 299, 300, 429, 500, 503));

    private static readonly Gen<byte[]> Bodies = Gen.OneOf(
        Gen.Byte.Array[0, 1024],
        Gen.OneOf("Healthy", "degraded", " UNHEALTHY\n", "ok", "{\"status\":\"starting\"}", "{\"status\":\"draining\",\"dependencies\":{\"db\":\"x\"}}", "{\"status\":")
            .Select(Encoding.UTF8.GetBytes),
        Gen.Select(Gen.OneOf("{\"status\":\"", "{\"Status\":\"", "  {\"service\":\"x\",\"status\":\""), Gen.String, Gen.Byte.Array[0, 8])
            .Select((prefix, word, junk) => (byte[])[.. Encoding.UTF8.GetBytes(prefix + word + "\"}"), .. junk]));

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Parse_AnyCodeAndBody_IsAStateAndFallsBackToTheCode() =>
        Gen.Select(StatusCodes, Bodies).Sample((code, body) =>
        {
            var state = ProbeResponseParser.Parse(code, body);

            Assert.True(Enum.IsDefined(state));
            var text = body.AsSpan().Trim(" \t\r\n"u8);
            if (text.IsEmpty || (text[0] != (byte)'{' && text.Length > 16))
            {
                Assert.Equal(ByCode(code), state);
            }
            else if (text[0] == (byte)'{')
            {
                var expected = StatusDocumentJson.TryParse(text, out var document)
                    ? document!.Status
                    : ByCode(code);
                Assert.Equal(expected, state);
            }
        }, iter: Iterations);

    // Consul's HTTP check rule: 2xx passing (healthy), 429 warning (degraded), anything else critical.
    private static HealthState ByCode(int code) =>
        code is >= 200 and <= 299 ? HealthState.Healthy : code == 429 ? HealthState.Degraded : HealthState.Unhealthy;

    [Fact]
    public async Task ProbeOnce_AnyBodySize_ReadsAtMostTheCapAndParsesWhatFits() =>
        await Gen.Select(Gen.Int[16, 4096], Gen.Int[0, 3], Gen.Int[0, 20_000], Gen.Bool).SampleAsync(async (cap, kind, length, declareLength) =>
        {
            var body = kind switch
            {
                0 => Encoding.UTF8.GetBytes("{\"status\":\"degraded\"" + new string(' ', length) + "}"),
                1 => Encoding.UTF8.GetBytes("{\"status\":\"starting\",\"x\":\"" + new string('a', length) + "\"}"),
                2 => Encoding.UTF8.GetBytes(new string(' ', length) + "Unhealthy"),
                _ => new byte[length],
            };
            var handler = new BodyHandler(HttpStatusCode.OK, body, declareLength);
            using var invoker = new HttpMessageInvoker(handler);
            var metrics = new GatewayMetrics(_services.GetRequiredService<IMeterFactory>());
            var store = new InstanceHealthStore(new RoutingTable(), TimeProvider.System, metrics, NullLogger<InstanceHealthStore>.Instance);
            using var monitor = new ActiveProbeMonitor(new RequestFactory(), store, metrics, Options.Create(new ProbeOptions { MaxBodyBytes = cap }), TimeProvider.System, NullLogger<ActiveProbeMonitor>.Instance);
            var cluster = Cluster(invoker);
            store.OnClusterAdded(cluster);

            await monitor.CheckHealthAsync([cluster]);

            Assert.True(handler.BytesRead <= cap + 1, $"read {handler.BytesRead} bytes with a cap of {cap}");
            var expected = body.Length <= cap ? ProbeResponseParser.Parse(200, body) : HealthState.Healthy;
            Assert.Equal(expected, store.Get("c", "d")?.State);
        }, iter: 300);

    private static ClusterState Cluster(HttpMessageInvoker invoker)
    {
        var config = new ClusterConfig
        {
            ClusterId = "c",
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig { Enabled = true, Interval = TimeSpan.FromHours(1), Timeout = TimeSpan.FromSeconds(30) },
            },
        };
        var cluster = new ClusterState("c", new ClusterModel(config, invoker));
        cluster.Destinations.TryAdd("d", new DestinationState("d", new DestinationModel(new DestinationConfig { Address = "http://127.0.0.1:1/" })));
        return cluster;
    }

    private sealed class RequestFactory : IProbingRequestFactory
    {
        public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination) =>
            new(HttpMethod.Get, new Uri(new Uri(destination.Config.Address), "health"));
    }

    /// <summary>Answers with <c>body</c>, counting the bytes the prober actually pulls from the stream.</summary>
    private sealed class BodyHandler(HttpStatusCode status, byte[] body, bool declareLength) : HttpMessageHandler
    {
        private readonly List<CountingStream> _streams = [];

        /// <summary>The most any one probe read.</summary>
        public long BytesRead
        {
            get
            {
                lock (_streams)
                {
                    return _streams.Max(s => s.BytesRead);
                }
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var stream = new CountingStream(body);
            lock (_streams)
            {
                _streams.Add(stream);
            }

            var content = new StreamContent(stream);
            if (declareLength)
            {
                content.Headers.ContentLength = body.Length;
            }
            else
            {
                content.Headers.ContentLength = null;
            }

            return Task.FromResult(new HttpResponseMessage(status) { Content = content });
        }
    }

    /// <summary>A read-only stream over <c>body</c> that counts what was read (not a MemoryStream: its Read overloads call each other).</summary>
    private sealed class CountingStream(byte[] body) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, body.Length - BytesRead);
            body.AsSpan((int)BytesRead, count).CopyTo(buffer);
            BytesRead += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
