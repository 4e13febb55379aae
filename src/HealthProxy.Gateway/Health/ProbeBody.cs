namespace HealthProxy.Gateway.Health;

/// <summary>Reading a probe's answer without reading more of it than a status can be: for the HTTP and gRPC probes alike.</summary>
internal static class ProbeBody
{
    /// <summary>
    /// Reads a probe's body into <paramref name="buffer"/> (at least <paramref name="maxBytes"/> + 1 long), stopping one
    /// byte past <paramref name="maxBytes"/>; returns the bytes read, above <paramref name="maxBytes"/> for a body too large.
    /// </summary>
    internal static async Task<int> ReadCappedAsync(HttpResponseMessage response, byte[] buffer, int maxBytes, CancellationToken cancellation)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var total = 0;
            while (total <= maxBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(total, maxBytes + 1 - total), cancellation).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }
    }
}
