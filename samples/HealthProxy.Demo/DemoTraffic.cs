using HealthProxy.Health;

namespace HealthProxy.Demo;

/// <summary>The demo's client: reads (GET, and a POST declared a read) and writes, in turn, every 30 ms.</summary>
internal static class DemoTraffic
{
    /// <summary>Cancelled on Ctrl+C, or after <paramref name="duration"/> (zero: only on Ctrl+C).</summary>
    public static CancellationTokenSource StopAfter(TimeSpan duration)
    {
        var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        if (duration > TimeSpan.Zero)
        {
            stop.CancelAfter(duration);
        }

        return stop;
    }

    public static async Task SendAsync(HttpClient client, TrafficTally tally, CancellationToken stop)
    {
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            var (kind, request) = (i++ % 3) switch
            {
                0 => (RequestKind.Read, new HttpRequestMessage(HttpMethod.Get, "/catalog/items")),
                1 => (RequestKind.Read, new HttpRequestMessage(HttpMethod.Post, "/catalog/search") { Content = new StringContent("{\"q\":\"tea\"}") }),
                _ => (RequestKind.Write, new HttpRequestMessage(HttpMethod.Post, "/catalog/orders") { Content = new StringContent("{\"item\":42}") }),
            };
            try
            {
                using var response = await client.SendAsync(request, stop);
                var servedBy = response.Headers.TryGetValues("X-Served-By", out var values) ? values.First() : $"HTTP {(int)response.StatusCode}";
                tally.Add(kind, servedBy);
            }
            catch (HttpRequestException)
            {
                tally.Add(kind, "error");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                request.Dispose();
            }

            try
            {
                await Task.Delay(30, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>"a:12 b:3" for one request kind, instances in name order.</summary>
    public static string Row(Dictionary<(RequestKind Kind, string Instance), int> counts, RequestKind kind) =>
        string.Join(" ", counts.Where(c => c.Key.Kind == kind).OrderBy(c => c.Key.Instance, StringComparer.Ordinal).Select(c => $"{c.Key.Instance}:{c.Value}"));
}
