using System.Text;
using HealthProxy.Health;

namespace HealthProxy.Reporting.Publishing;

/// <summary>The TTL check's <c>Output</c>: the status document as JSON, made to fit Consul's output limit.</summary>
/// <remarks>
/// Consul keeps only the first 4096 bytes of an output and appends a note, which would leave JSON the gateway cannot
/// parse. So a document that is too long loses dependencies instead: the worst (critical first) are kept, as many as
/// fit; when not even the bare document fits (a very long service name), the output is just <c>{"status":"..."}</c>.
/// </remarks>
internal static class CheckOutput
{
    /// <summary>Consul's default limit on a check's output, in bytes.</summary>
    public const int MaxBytes = 4096;

    public static string Write(StatusDocument document, int maxBytes = MaxBytes)
    {
        var full = StatusDocumentJson.Write(document);
        if (Fits(full, maxBytes))
        {
            return full;
        }

        var ranked = document.Dependencies
            .OrderByDescending(d => d.Value.Status)
            .ThenByDescending(d => d.Value.Critical)
            .ThenBy(d => d.Key, StringComparer.Ordinal)
            .ToArray();

        // The largest prefix of the ranked dependencies that fits; the document grows with the prefix.
        var (low, high) = (0, ranked.Length - 1);
        string? best = null;
        while (low <= high)
        {
            var count = (low + high) / 2;
            var text = StatusDocumentJson.Write(document with { Dependencies = ranked.Take(count).ToDictionary(StringComparer.Ordinal) });
            if (Fits(text, maxBytes))
            {
                best = text;
                low = count + 1;
            }
            else
            {
                high = count - 1;
            }
        }

        return best ?? StatusDocumentJson.Write(new StatusDocument { Status = document.Status });
    }

    private static bool Fits(string text, int maxBytes) => text.Length <= maxBytes / 3 || Encoding.UTF8.GetByteCount(text) <= maxBytes;
}
