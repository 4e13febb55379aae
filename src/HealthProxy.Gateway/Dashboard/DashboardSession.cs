using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Http;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>
/// The dashboard's session cookie: what a browser holds instead of the detailed token, which it cannot
/// send as a bearer header when it navigates.
/// </summary>
/// <remarks>
/// The value is <c>&lt;expiry unix seconds&gt;.&lt;HMAC-SHA256(key, expiry)&gt;</c>, the key itself an HMAC
/// of the token (<see cref="HealthEndpointAccess.SessionKey"/>): it never contains the token, survives a
/// gateway restart (so a live page reconnects), and stops working when the token is rotated or the
/// expiry passes. Signatures are compared with <see cref="CryptographicOperations.FixedTimeEquals"/>.
/// The cookie is HttpOnly, SameSite=Strict, scoped to the dashboard's path, and Secure over HTTPS.
/// </remarks>
internal static class DashboardSession
{
    public const string CookieName = "healthproxy-dashboard";

    /// <summary>How long a session lasts after the token was presented.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    public static string Create(HealthEndpointAccess access, DateTimeOffset expires)
    {
        var expiry = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return expiry + "." + Convert.ToBase64String(Sign(access, expiry)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool IsValid(HealthEndpointAccess access, string? value, DateTimeOffset now)
    {
        if (!access.DetailedEnabled || string.IsNullOrEmpty(value) || value.Length > 128)
        {
            return false;
        }

        // An expiry past what DateTimeOffset can hold is as malformed as one that does not parse.
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || !long.TryParse(value.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var expiry)
            || expiry <= now.ToUnixTimeSeconds()
            || expiry > MaxUnixSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Create(access, DateTimeOffset.FromUnixTimeSeconds(expiry)));
        var presented = Encoding.ASCII.GetBytes(value);
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    public static void Append(HttpContext context, string value, DateTimeOffset expires) =>
        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = DashboardEndpoints.Path,
            Expires = expires,
            IsEssential = true,
        });

    private static byte[] Sign(HealthEndpointAccess access, string expiry) =>
        HMACSHA256.HashData(access.SessionKey, Encoding.ASCII.GetBytes(expiry));
}
