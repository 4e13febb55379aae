using System.Net;

namespace HealthProxy.Gateway.Views;

/// <summary>A parsed list of networks; an address matches when any network contains it (IPv4-mapped IPv6 as IPv4).</summary>
internal sealed class NetworkList(IReadOnlyList<IPNetwork> networks)
{
    public IReadOnlyList<IPNetwork> Networks { get; } = networks;

    public bool IsEmpty => Networks.Count == 0;

    public static NetworkList Parse(IEnumerable<string> entries) =>
        new([.. entries.SelectMany(Split).Select(e => TryParse(e, out var network) ? network : throw new FormatException($"Not a network: {e}"))]);

    public static bool TryParse(string entry, out IPNetwork network)
    {
        network = default;
        foreach (var part in Split(entry))
        {
            if (!TryParseOne(part, out network))
            {
                return false;
            }
        }

        return !string.IsNullOrWhiteSpace(entry);
    }

    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in Networks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> Split(string entry) => entry.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryParseOne(string text, out IPNetwork network)
    {
        if (IPNetwork.TryParse(text, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }
}
