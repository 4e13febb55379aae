using System.Globalization;
using System.Text.Json;

namespace HealthProxy.Reliability.Tests.Registry;

/// <summary>What the gateway says about itself over HTTP: readiness, and single series from its Prometheus scrape.</summary>
public static class GatewaySignals
{
    /// <summary><c>/health/ready</c> as "200 ready", "200 degraded", "503 starting", ..., or the exception's type when it did not answer.</summary>
    public static async Task<string> ReadinessAsync(HttpClient client, string? baseAddress = null)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(baseAddress is null ? "/health/ready" : baseAddress + "/health/ready", UriKind.RelativeOrAbsolute));
            var body = await response.Content.ReadAsStringAsync();
            using var document = JsonDocument.Parse(body);
            return $"{(int)response.StatusCode} {document.RootElement.GetProperty("status").GetString()}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return ex.GetType().Name;
        }
    }

    /// <summary>The scrape text of <c>/metrics</c>.</summary>
    public static async Task<string> ScrapeAsync(HttpClient client, string? baseAddress = null) =>
        await client.GetStringAsync(new Uri(baseAddress is null ? "/metrics" : baseAddress + "/metrics", UriKind.RelativeOrAbsolute));

    /// <summary>The value of the first series of <paramref name="metric"/> whose labels contain every one of <paramref name="labels"/> (<c>name="value"</c>); null when there is none.</summary>
    public static double? Value(string scrape, string metric, params string[] labels)
    {
        foreach (var line in scrape.Split('\n'))
        {
            if (!line.StartsWith(metric, StringComparison.Ordinal) || line.Length <= metric.Length || (line[metric.Length] != '{' && line[metric.Length] != ' '))
            {
                continue;
            }

            var close = line.LastIndexOf('}');
            var labelText = close < 0 ? "" : line[..close];
            if (!labels.All(l => labelText.Contains(l, StringComparison.Ordinal)))
            {
                continue;
            }

            var value = line[(close < 0 ? metric.Length : close + 1)..].Trim().Split(' ')[0];
            return double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return null;
    }

    /// <summary>The sum of every series of <paramref name="metric"/> whose labels contain all of <paramref name="labels"/>.</summary>
    public static double Sum(string scrape, string metric, params string[] labels)
    {
        var total = 0.0;
        foreach (var line in scrape.Split('\n'))
        {
            if (!line.StartsWith(metric, StringComparison.Ordinal) || line.Length <= metric.Length || (line[metric.Length] != '{' && line[metric.Length] != ' '))
            {
                continue;
            }

            var close = line.LastIndexOf('}');
            var labelText = close < 0 ? "" : line[..close];
            if (labels.All(l => labelText.Contains(l, StringComparison.Ordinal)))
            {
                total += double.Parse(line[(close < 0 ? metric.Length : close + 1)..].Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
