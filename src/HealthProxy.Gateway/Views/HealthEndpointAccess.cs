using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.Views;

/// <summary>
/// The two locks on the health endpoints: the network allowlist (every health endpoint, HTTP and gRPC)
/// and the bearer token of <c>/health/detailed</c>.
/// </summary>
/// <remarks>
/// The token is compared as SHA-256 hashes with <see cref="CryptographicOperations.FixedTimeEquals"/>:
/// both sides are 32 bytes whatever was sent, so neither the content nor the length of the real token
/// leaks through timing. Stripping the token from proxied requests answers nothing to the caller, so it compares
/// lengths first and hashes only a credential as long as the token. The caller's address is the connection's, after ASP.NET Core's forwarded
/// headers middleware has believed <c>X-Forwarded-For</c> from trusted proxies only.
/// The token and the allowlist change live (<see cref="Apply"/>): both are held in one immutable state
/// swapped atomically, so a request sees the old pair or the new one, never half of each.
/// </remarks>
internal sealed class HealthEndpointAccess
{
    private const string BearerPrefix = "Bearer ";
    private volatile State _state;

    public HealthEndpointAccess(IOptions<HealthSecurityOptions> options) => _state = State.From(options.Value);

    /// <summary>Whether a detailed token is configured (otherwise the detailed view is disabled).</summary>
    public bool DetailedEnabled => _state.TokenHash is not null;

    /// <summary>Whether the caller's address is allowed (always, when no allowlist is configured).</summary>
    public bool IsAllowed(HttpContext context)
    {
        var allowed = _state.Allowed;
        return allowed.IsEmpty || allowed.Contains(context.Connection.RemoteIpAddress);
    }

    /// <summary>The key that signs dashboard sessions (derived from the detailed token), or empty when none is configured.</summary>
    public ReadOnlySpan<byte> SessionKey => _state.SessionKey;

    /// <summary>Replaces the token and the allowlist with already validated options, at once for every later request.</summary>
    public void Apply(HealthSecurityOptions options) => _state = State.From(options);

    /// <summary>Whether the request carries the detailed token, as its one and only <c>Authorization</c> credential.</summary>
    public bool HasDetailedToken(HttpRequest request)
    {
        // Several Authorization headers join with a comma here, so they never match.
        ReadOnlySpan<char> header = request.Headers.Authorization.ToString();
        return header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) && IsDetailedToken(header[BearerPrefix.Length..].Trim());
    }

    /// <summary>
    /// Removes the detailed token from the request's <c>Authorization</c> however it is spelled (several
    /// headers, comma-joined credentials, any scheme or none), keeping every other credential as sent.
    /// </summary>
    /// <returns>Whether the token was found (and removed).</returns>
    /// <remarks>Runs on proxied requests that carry an <c>Authorization</c> header; allocates only when it removes something.</remarks>
    public bool StripDetailedToken(IHeaderDictionary headers)
    {
        var values = headers.Authorization;
        if (values.Count == 0 || _state.TokenHash is null || !AnyCredentialIsToken(values))
        {
            return false;
        }

        var kept = new List<string>(values.Count);
        foreach (var value in values)
        {
            foreach (var range in (value ?? string.Empty).AsSpan().Split(','))
            {
                var credential = (value ?? string.Empty).AsSpan()[range].Trim();
                if (!credential.IsEmpty && !IsTokenCredential(credential))
                {
                    kept.Add(credential.ToString());
                }
            }
        }

        if (kept.Count == 0)
        {
            headers.Authorization = default;
        }
        else
        {
            headers.Authorization = new StringValues([.. kept]);
        }

        return true;
    }

    /// <summary>Whether <paramref name="presented"/> is the detailed token.</summary>
    public bool IsDetailedToken(ReadOnlySpan<char> presented)
    {
        var tokenHash = _state.TokenHash;
        if (tokenHash is null || presented.IsEmpty)
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
            return CryptographicOperations.FixedTimeEquals(hash, tokenHash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private bool AnyCredentialIsToken(StringValues values)
    {
        foreach (var value in values)
        {
            var span = (value ?? string.Empty).AsSpan();
            foreach (var range in span.Split(','))
            {
                if (IsTokenCredential(span[range].Trim()))
                {
                    return true;
                }
            }
        }

        return false;
    }

    // "<scheme> <token>" with any scheme (Bearer above all), or the bare token.
    private bool IsTokenCredential(ReadOnlySpan<char> credential)
    {
        if (credential.IsEmpty)
        {
            return false;
        }

        var space = credential.IndexOfAny(' ', '\t');
        return IsStrippable(credential) || (space > 0 && IsStrippable(credential[(space + 1)..].Trim()));
    }

    // Stripping decides nothing for the caller, so it may skip the hash for a credential whose length cannot be the
    // token's: an API's own bearer tokens, on every proxied request that carries one, cost a length count, not SHA-256.
    private bool IsStrippable(ReadOnlySpan<char> candidate) =>
        candidate.Length <= _state.TokenLength && Encoding.UTF8.GetByteCount(candidate) == _state.TokenLength && IsDetailedToken(candidate);

    private sealed record State(byte[]? TokenHash, byte[]? SessionKey, NetworkList Allowed, int TokenLength = 0)
    {
        public static State From(HealthSecurityOptions options)
        {
            var token = string.IsNullOrEmpty(options.DetailedToken)
                ? Environment.GetEnvironmentVariable(HealthSecurityOptions.DetailedTokenEnvironmentVariable)
                : options.DetailedToken;
            if (string.IsNullOrEmpty(token))
            {
                return new State(null, null, NetworkList.Parse(options.AllowedNetworks));
            }

            var bytes = Encoding.UTF8.GetBytes(token);

            // A key derived from the token, so sessions survive a restart and die when the token is rotated.
            return new State(SHA256.HashData(bytes), HMACSHA256.HashData(bytes, "HealthProxy dashboard session v1"u8), NetworkList.Parse(options.AllowedNetworks), bytes.Length);
        }
    }
}
