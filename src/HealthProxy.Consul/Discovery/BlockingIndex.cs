namespace HealthProxy.Consul.Discovery;

/// <summary>Consul's blocking-query index rules, apart from any I/O so they can be tested alone.</summary>
internal static class BlockingIndex
{
    /// <summary>
    /// The index to send next, given the one sent before and the one Consul just answered with: 0 when the
    /// answer's index went backwards (snapshot restore, upgrade — an immediate answer re-syncs), otherwise the
    /// answer's index clamped to at least 1 (0 would make the next query return at once, forever).
    /// </summary>
    public static ulong Next(ulong previous, ulong answered, out bool wentBackwards)
    {
        wentBackwards = answered < previous;
        return wentBackwards ? 0 : Math.Max(answered, 1);
    }
}
