namespace HealthProxy.Gateway.Resilience;

/// <summary>A set of HTTP status codes read from <c>500-599</c> or <c>502,503,504</c>; a lookup is an array index.</summary>
internal sealed class StatusCodeSet
{
    private readonly bool[] _codes;

    private StatusCodeSet(bool[] codes) => _codes = codes;

    /// <summary>No codes at all.</summary>
    public static StatusCodeSet Empty { get; } = new(new bool[600]);

    public bool Contains(int statusCode) => (uint)statusCode < (uint)_codes.Length && _codes[statusCode];

    public static bool TryParse(string? text, out StatusCodeSet set)
    {
        var codes = new bool[600];
        set = new StatusCodeSet(codes);
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var lowText = dash < 0 ? part : part[..dash];
            var highText = dash < 0 ? part : part[(dash + 1)..];
            if (!int.TryParse(lowText, out var low) || !int.TryParse(highText, out var high) || low < 100 || high > 599 || low > high)
            {
                return false;
            }

            for (var code = low; code <= high; code++)
            {
                codes[code] = true;
            }
        }

        return true;
    }
}
