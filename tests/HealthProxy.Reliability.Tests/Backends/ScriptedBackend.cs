using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HealthProxy.Reliability.Tests.Backends;

/// <summary>
/// One backend instance on a raw loopback socket (port 0) speaking just enough HTTP/1.1 (keep-alive,
/// <c>Content-Length</c> bodies) for the steady load, the gateway's probes and two special paths:
/// <see cref="PollPath"/> (and paths below it), a long poll answered after <c>pollLatency</c> plus up to a second, and
/// <see cref="UploadPath"/>, which an instance built to refuse uploads answers with 413 before reading the body,
/// then closes its side and discards what still arrives (a lingering close, as nginx's <c>client_max_body_size</c>
/// does). Everything else answers 200 with its name after the normal latency.
/// </summary>
/// <remarks>
/// Kestrel decides for itself whether to drain an unread body or to reset; a raw socket lets the scenario
/// choose the close. Counters only, never a log, so a long run stays bounded.
/// </remarks>
internal sealed class ScriptedBackend : IDisposable
{
    public const string PollPath = "/poll";

    public const string UploadPath = "/upload";

    /// <summary>How long a refusing instance goes on discarding an upload's body after its 413.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _normalLatency;
    private readonly TimeSpan _pollLatency;
    private readonly bool _refusesUploads;
    private long _requests;
    private long _uploads;
    private long _polls;
    private long _probes;
    private long _malformed;

    public ScriptedBackend(string name, TimeSpan normalLatency, TimeSpan pollLatency, bool refusesUploads)
    {
        Name = name;
        _normalLatency = normalLatency;
        _pollLatency = pollLatency;
        _refusesUploads = refusesUploads;
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Name { get; }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    /// <summary>Proxied requests (not probes) whose headers arrived, uploads and polls included.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Uploads whose headers arrived (refused or read).</summary>
    public long Uploads => Interlocked.Read(ref _uploads);

    /// <summary>Long polls whose headers arrived.</summary>
    public long Polls => Interlocked.Read(ref _polls);

    public long Probes => Interlocked.Read(ref _probes);

    /// <summary>Requests this minimal server could not parse (chunked bodies, oversized headers); must stay 0.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private static int HeaderEnd(byte[] buffer, int filled)
    {
        for (var i = 3; i < filled; i++)
        {
            if (buffer[i - 3] == '\r' && buffer[i - 2] == '\n' && buffer[i - 1] == '\r' && buffer[i] == '\n')
            {
                return i - 3;
            }
        }

        return -1;
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        413 => "Payload Too Large",
        _ => "Status",
    };

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeConnectionAsync(socket);
        }
    }

    private async Task ServeConnectionAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                await ServeRequestsAsync(socket, _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
                // The gateway closed the connection, or the backend is stopping.
            }
        }
    }

    private async Task ServeRequestsAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        while (!stop.IsCancellationRequested)
        {
            int headerEnd;
            while ((headerEnd = HeaderEnd(buffer, filled)) < 0)
            {
                if (filled == buffer.Length)
                {
                    Interlocked.Increment(ref _malformed);
                    return;
                }

                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, stop);
                if (read == 0)
                {
                    return;
                }

                filled += read;
            }

            var lines = Encoding.ASCII.GetString(buffer, 0, headerEnd).Split("\r\n");
            var target = lines[0].Split(' ');
            var path = target.Length > 1 ? target[1].Split('?')[0] : "/";
            long contentLength = 0;
            var close = false;
            var chunked = false;
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    contentLength = long.Parse(value, CultureInfo.InvariantCulture);
                }
                else if (key.Equals("Connection", StringComparison.OrdinalIgnoreCase) && value.Contains("close", StringComparison.OrdinalIgnoreCase))
                {
                    close = true;
                }
                else if (key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = true;
                }
            }

            var consumed = headerEnd + 4;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;

            if (chunked)
            {
                Interlocked.Increment(ref _malformed);
                await AnswerAsync(socket, 400, "chunked bodies are not supported", close: true, stop);
                return;
            }

            if (path == FaultyBackend.HealthPath)
            {
                Interlocked.Increment(ref _probes);
            }
            else
            {
                Interlocked.Increment(ref _requests);
            }

            if (path == UploadPath)
            {
                Interlocked.Increment(ref _uploads);
                if (_refusesUploads)
                {
                    await RefuseAsync(socket, buffer, stop);
                    return;
                }
            }

            // Discard the body, never reading past it into the next request.
            var fromBuffer = (int)Math.Min(contentLength, filled);
            Buffer.BlockCopy(buffer, fromBuffer, buffer, 0, filled - fromBuffer);
            filled -= fromBuffer;
            var remaining = contentLength - fromBuffer;
            while (remaining > 0)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), SocketFlags.None, stop);
                if (read == 0)
                {
                    return;
                }

                remaining -= read;
            }

            if (path == FaultyBackend.HealthPath)
            {
                await AnswerAsync(socket, 200, "{\"status\":\"healthy\"}", close, stop, "application/json");
            }
            else if (path == PollPath || path.StartsWith(PollPath + "/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _polls);

                // The long poll: silent for longer than the cluster's activity timeout, then it answers.
                await Task.Delay(_pollLatency + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 1000)), stop);
                await AnswerAsync(socket, 200, Name, close, stop);
            }
            else
            {
                await Task.Delay(_normalLatency, stop);
                await AnswerAsync(socket, 200, Name, close, stop);
            }

            if (close)
            {
                return;
            }
        }
    }

    /// <summary>413 before the body, our side closed, then what still arrives is discarded for a while, so the close stays graceful.</summary>
    private async Task RefuseAsync(Socket socket, byte[] buffer, CancellationToken stop)
    {
        await AnswerAsync(socket, 413, string.Empty, close: true, stop);
        socket.Shutdown(SocketShutdown.Send);
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(stop);
        linger.CancelAfter(Linger);
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, linger.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException) when (linger.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            // Lingered long enough.
        }
    }

    private async Task AnswerAsync(Socket socket, int status, string body, bool close, CancellationToken stop, string contentType = "text/plain")
    {
        var payload = Encoding.UTF8.GetBytes(body);
        var head = string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Length: {payload.Length}\r\nContent-Type: {contentType}\r\nX-Served-By: {Name}\r\n{(close ? "Connection: close\r\n" : string.Empty)}\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head).Concat(payload).ToArray(), SocketFlags.None, stop);
    }
}
