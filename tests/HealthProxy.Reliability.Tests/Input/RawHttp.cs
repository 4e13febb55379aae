using System.Net.Sockets;
using System.Text;

namespace HealthProxy.Reliability.Tests.Input;

/// <summary>One HTTP exchange over a raw socket, for requests HttpClient refuses to send.</summary>
internal static class RawHttp
{
    public sealed record Answer(int Status, string Head, string Body)
    {
        public string Text => Head + "\r\n\r\n" + Body;
    }

    /// <summary>
    /// Sends <paramref name="request"/> as is and reads until the server closes or <paramref name="timeout"/>
    /// passes. Status 0: no status line came back (the server closed, or answered nothing).
    /// </summary>
    public static async Task<Answer> SendAsync(Uri gateway, byte[] request, TimeSpan? timeout = null)
    {
        using var client = new TcpClient();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        await client.ConnectAsync(gateway.Host, gateway.Port, deadline.Token);
        var stream = client.GetStream();
        var received = new MemoryStream();
        try
        {
            await stream.WriteAsync(request, deadline.Token);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await stream.ReadAsync(buffer, deadline.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (IsComplete(received))
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // A reset or a server that stops reading mid-request is an answer too: what came back counts.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var body = split < 0 ? string.Empty : text[(split + 4)..];
        var status = head.StartsWith("HTTP/", StringComparison.Ordinal) && head.Length >= 12 && int.TryParse(head.AsSpan(9, 3), out var code) ? code : 0;
        return new Answer(status, head, body);
    }

    public static Task<Answer> SendAsync(Uri gateway, string request, TimeSpan? timeout = null) =>
        SendAsync(gateway, Encoding.Latin1.GetBytes(request), timeout);

    /// <summary>A response is complete when its Content-Length worth of body has arrived (chunked: the last chunk).</summary>
    private static bool IsComplete(MemoryStream received)
    {
        var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return false;
        }

        var head = text[..split];
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) && int.TryParse(line.AsSpan(15).Trim(), out var length))
            {
                return text.Length - split - 4 >= length;
            }
        }

        return head.Contains("chunked", StringComparison.OrdinalIgnoreCase) && text.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
    }
}
