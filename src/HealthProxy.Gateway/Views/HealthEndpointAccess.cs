using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// The two locks on the health endpoints: the network allowlist (every health endpoint, HTTP and gRPC)
/// and the bearer token of <c>/health/detailed</c>.
/// </summary>
/// <remarks>
/// The token is compared as SHA-256 hashes with <see cref="CryptographicOperations.FixedTimeEquals"/>:
/// both sides are 32 bytes whatever was sent, so neither the content nor the length of the real token
/// leaks through timing. The caller's address is the connection's, after ASP.NET Core's forwarded
/// headers middleware has believed <c>X-Forwarded-For</c> from trusted proxies only.
/// </remarks>
internal sealed class HealthEndpointAccess
{
    private const string BearerPrefix = "Bearer ";
    private readonly byte[]? _tokenHash;
    private readonly byte[]? _sessionKey;
    private readonly NetworkList _allowed;

    public HealthEndpointAccess(IOptions<HealthSecurityOptions> options)
    {
        var value = options.Value;
        var token = string.IsNullOrEmpty(value.DetailedToken)
            ? Environment.GetEnvironmentVariable(HealthSecurityOptions.DetailedTokenEnvironmentVariable)
            : value.DetailedToken;
        _tokenHash = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

        // A key derived from the token, so sessions survive a restart and die when the token is rotated.
        _sessionKey = string.IsNullOrEmpty(token) ? null : HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "HealthProxy dashboard session v1"u8);
        _allowed = NetworkList.Parse(value.AllowedNetworks);
    }

    /// <summary>Whether a detailed token is configured (otherwise the detailed view is disabled).</summary>
    public bool DetailedEnabled => _tokenHash is not null;

    /// <summary>Whether the caller's address is allowed (always, when no allowlist is configured).</summary>
    public bool IsAllowed(HttpContext context) => _allowed.IsEmpty || _allowed.Contains(context.Connection.RemoteIpAddress);

    /// <summary>The key that signs dashboard sessions (derived from the detailed token), or null when none is configured.</summary>
    public ReadOnlySpan<byte> SessionKey => _sessionKey;

    /// <summary>Whether the request carries the detailed token.</summary>
    /// <remarks>Runs on every proxied request that has an <c>Authorization</c> header (to strip the token), so it allocates nothing.</remarks>
    public bool HasDetailedToken(HttpRequest request)
    {
        // Several Authorization headers join with a comma here, so they never match.
        ReadOnlySpan<char> header = request.Headers.Authorization.ToString();
        return header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && IsDetailedToken(header[BearerPrefix.Length..].Trim());
    }

    /// <summary>Whether <paramref name="presented"/> is the detailed token.</summary>
    public bool IsDetailedToken(ReadOnlySpan<char> presented)
    {
        if (_tokenHash is null || presented.IsEmpty)
        {
            return false;
        }

        const int StackLimit = 512;
        var length = Encoding.UTF8.GetByteCount(presented);
        byte[]? rented = null;
        var bytes = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(presented, bytes);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..written], hash);
            return CryptographicOperations.FixedTimeEquals(hash, _tokenHash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
