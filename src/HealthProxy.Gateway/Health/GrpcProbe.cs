using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using HealthProxy.Health;
using Yarp.ReverseProxy.Model;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace HealthProxy.Gateway.Health;

/// <summary>
/// One <c>grpc.health.v1.Health/Check</c> probe, as a plain HTTP/2 exchange on the cluster's own client: the request,
/// and the reading of its answer (see <see cref="GrpcProbeResponseParser"/> for what an answer means).
/// </summary>
/// <remarks>
/// Hand-built rather than a <c>GrpcChannel</c>: a channel takes an <see cref="HttpClient"/> or a handler, not YARP's
/// <see cref="HttpMessageInvoker"/>, and would pin one client and one address, while YARP swaps a cluster's client when
/// its <c>HttpClient</c> settings change and a destination's address on a reload. A request built per probe goes
/// through whatever client and address the prober reads afresh, under the probe's timeout and cancellation, and its
/// failures land where an HTTP probe's do. The exchange is small: one frame out, one frame and the trailers back.
/// </remarks>
internal static class GrpcProbe
{
    /// <summary>The path of the Check method.</summary>
    public const string CheckPath = "/grpc.health.v1.Health/Check";

    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    /// <summary>
    /// The Check call to the destination's <c>Health</c> address (else its <c>Address</c>), path prefix kept, over
    /// HTTP/2 only: h2c with prior knowledge for <c>http://</c>, TLS with ALPN for <c>https://</c>.
    /// <paramref name="timeout"/> also goes to the server as <c>grpc-timeout</c>.
    /// </summary>
    public static HttpRequestMessage CreateRequest(DestinationModel destination, string service, TimeSpan timeout)
    {
        var address = destination.Config.Health is { Length: > 0 } health ? health : destination.Config.Address;
        var message = new HealthCheckRequest { Service = service }.ToByteArray();
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)message.Length);
        message.CopyTo(frame, 5);

        var content = new ByteArrayContent(frame);
        content.Headers.ContentType = GrpcContentType;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address.TrimEnd('/') + CheckPath, UriKind.Absolute))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        request.Headers.TryAddWithoutValidation("grpc-timeout", GrpcTimeout(timeout));
        request.Headers.TryAddWithoutValidation("grpc-accept-encoding", "identity");
        return request;
    }

    /// <summary>
    /// Reads the answer: the state, whether the instance stated it, and why the probe failed (null when the instance
    /// answered the call). The body is read only up to <paramref name="maxBytes"/>; a larger one fails the probe.
    /// </summary>
    public static async Task<(HealthState State, bool Declared, string? Failure)> ReadStateAsync(
        HttpResponseMessage response, int maxBytes, CancellationToken cancellation)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return Failed($"HTTP {(int)response.StatusCode}");
        }

        if (response.Content.Headers.ContentType?.MediaType is not { } mediaType || !mediaType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            return Failed("not a gRPC response");
        }

        var stated = First(response.Headers, GrpcProbeResponseParser.StateMetadata);
        string? statusText;
        var serving = ServingStatus.Unknown;
        var hasMessage = false;
        if (First(response.Headers, "grpc-status") is { } trailersOnly)
        {
            // Trailers-only: the status came with the headers and there is no message.
            statusText = trailersOnly;
        }
        else
        {
            var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
            try
            {
                var total = await ProbeBody.ReadCappedAsync(response, buffer, maxBytes, cancellation).ConfigureAwait(false);
                if (total > maxBytes)
                {
                    return Failed("response too large");
                }

                hasMessage = GrpcProbeResponseParser.TryReadMessage(buffer.AsSpan(0, total), out serving);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            statusText = First(response.TrailingHeaders, "grpc-status");
            stated ??= First(response.TrailingHeaders, GrpcProbeResponseParser.StateMetadata);
        }

        if (!GrpcProbeResponseParser.TryParseStatus(statusText, out var status))
        {
            return Failed(statusText is null ? "no grpc-status" : $"grpc-status '{statusText}'");
        }

        if (status == StatusCode.OK && !hasMessage)
        {
            return Failed("malformed response");
        }

        var state = GrpcProbeResponseParser.Map(status, serving, stated, out var declared);
        return (state, declared, status is StatusCode.OK or StatusCode.NotFound ? null : $"grpc-status {status}");
    }

    private static (HealthState, bool, string?) Failed(string reason) => (HealthState.Unhealthy, false, reason);

    private static string? First(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>The gRPC wire form of a timeout: at most eight digits and a unit, in milliseconds, else seconds.</summary>
    private static string GrpcTimeout(TimeSpan timeout)
    {
        var milliseconds = Math.Max(1L, (long)Math.Ceiling(timeout.TotalMilliseconds));
        return milliseconds <= 99_999_999
            ? milliseconds.ToString(CultureInfo.InvariantCulture) + "m"
            : Math.Min(99_999_999L, (long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "S";
    }
}
