using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HealthProxy.Testing.Gateway;

/// <summary>A backend that breaks every connection after reading the request, on a real loopback socket.</summary>
public sealed class BrokenBackend : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly BreakMode _mode;
    private int _received;

    public enum BreakMode
    {
        /// <summary>Close without answering: the response ended prematurely.</summary>
        Close,

        /// <summary>Reset the connection (RST).</summary>
        Reset,

        /// <summary>Send a status line and headers, then a malformed chunk.</summary>
        MalformedChunk,

        /// <summary>
        /// Refuse the upload early, as a server with a body size limit does (nginx's <c>client_max_body_size</c>):
        /// answer 413 before reading the body, close its side, and discard what still arrives (a lingering close).
        /// </summary>
        RefuseUpload,

        /// <summary>Answer 413 before reading the body and close at once: the unread body makes the close a reset.</summary>
        RefuseUploadAbruptly,
    }

    public BrokenBackend(BreakMode mode)
    {
        _mode = mode;
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    /// <summary>Requests whose headers arrived.</summary>
    public int Received => Volatile.Read(ref _received);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

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

            _ = BreakAsync(socket);
        }
    }

    private async Task BreakAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[8192];
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            Interlocked.Increment(ref _received);
            switch (_mode)
            {
                case BreakMode.Reset:
                    socket.LingerState = new LingerOption(true, 0);
                    break;
                case BreakMode.RefuseUpload or BreakMode.RefuseUploadAbruptly:
                    await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), SocketFlags.None);
                    if (_mode == BreakMode.RefuseUpload)
                    {
                        socket.Shutdown(SocketShutdown.Send);
                        using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                        linger.CancelAfter(TimeSpan.FromSeconds(5));
                        try
                        {
                            while (await socket.ReceiveAsync(buffer, SocketFlags.None, linger.Token) > 0)
                            {
                            }
                        }
                        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                        {
                        }
                    }

                    break;
                case BreakMode.MalformedChunk:
                    await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ-not-hex\r\n"), SocketFlags.None);
                    break;
            }

            socket.Close();
        }
    }
}
