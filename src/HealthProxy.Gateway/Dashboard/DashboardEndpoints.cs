using System.Text;
using HealthProxy.Gateway.Endpoints;
using HealthProxy.Gateway.Views;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace HealthProxy.Gateway.Dashboard;

/// <summary>
/// <c>/dashboard</c>: the page, its script and style, its state (<c>/dashboard/state</c>) and its live
/// stream (<c>/dashboard/events</c>, Server-Sent Events). Locked like <c>/health/detailed</c>: the
/// network allowlist, then the detailed token as a bearer header or as the session cookie that
/// <c>/dashboard?token=…</c> trades it for.
/// </summary>
internal static class DashboardEndpoints
{
    public const string Path = "/dashboard";

    /// <summary>The query parameter that carries the token once, to be exchanged for the session cookie.</summary>
    public const string TokenParameter = "token";

    /// <summary>Bursts of changes are pushed at most this often.</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(250);

    /// <summary>With nothing changing, the state is pushed this often (ages, registry) and dead connections found.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    /// <summary>What EventSource waits before reconnecting, in milliseconds.</summary>
    public const int RetryMilliseconds = 1000;

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static async Task PageAsync(HttpContext context, HealthEndpointAccess access, DashboardAssets assets, TimeProvider timeProvider)
    {
        var token = context.Request.Query[TokenParameter];
        if (token.Count > 0 && access.DetailedEnabled)
        {
            if (!access.IsDetailedToken(token.ToString()))
            {
                await RefuseAsync(context).ConfigureAwait(false);
                return;
            }

            // The token leaves the address bar (and history) at once; the browser keeps only the session.
            var expires = timeProvider.GetUtcNow() + DashboardSession.Lifetime;
            DashboardSession.Append(context, DashboardSession.Create(access, expires), expires);
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            context.Response.Redirect(context.Request.PathBase + Path);
            return;
        }

        if (await AuthorizeAsync(context, access, timeProvider).ConfigureAwait(false))
        {
            await assets.WriteAsync(context, DashboardAssets.Page, ContentSecurityPolicy).ConfigureAwait(false);
        }
    }

    public static async Task AssetAsync(HttpContext context, string name, HealthEndpointAccess access, DashboardAssets assets, TimeProvider timeProvider)
    {
        if (await AuthorizeAsync(context, access, timeProvider).ConfigureAwait(false))
        {
            await assets.WriteAsync(context, name, ContentSecurityPolicy).ConfigureAwait(false);
        }
    }

    public static async Task StateAsync(HttpContext context, HealthEndpointAccess access, DashboardState state, TimeProvider timeProvider)
    {
        if (await AuthorizeAsync(context, access, timeProvider).ConfigureAwait(false))
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.Body.WriteAsync(state.Write(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The live stream: the whole state at once, then again after every change (bursts coalesced to one
    /// push per <see cref="Coalesce"/>) and at least every <see cref="Heartbeat"/>. A reconnecting page
    /// therefore always starts from the current state.
    /// </summary>
    public static async Task EventsAsync(
        HttpContext context, HealthEndpointAccess access, DashboardState state, DashboardEventLog events, TimeProvider timeProvider, IHostApplicationLifetime lifetime)
    {
        if (!await AuthorizeAsync(context, access, timeProvider).ConfigureAwait(false))
        {
            return;
        }

        var response = context.Response;
        // Streams end when the gateway stops, so they never hold up a graceful shutdown; pages reconnect.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var aborted = linked.Token;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.WriteAsync("retry: " + RetryMilliseconds + "\n\n", aborted).ConfigureAwait(false);
            while (!aborted.IsCancellationRequested)
            {
                var next = events.NextChange;
                await response.Body.WriteAsync(Frame(state.Write()), aborted).ConfigureAwait(false);
                await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                var sent = timeProvider.GetUtcNow();
                await Task.WhenAny(next, Task.Delay(Heartbeat, timeProvider, aborted)).ConfigureAwait(false);
                var wait = Coalesce - (timeProvider.GetUtcNow() - sent);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, timeProvider, aborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The page went away, or the gateway is stopping.
        }
    }

    private static byte[] Frame(byte[] json)
    {
        var head = "event: state\ndata: "u8;
        var frame = new byte[head.Length + json.Length + 2];
        head.CopyTo(frame);
        json.CopyTo(frame.AsSpan(head.Length));
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }

    /// <summary>Whether the caller holds the token (bearer header) or a valid session; answers 404 or 401 otherwise.</summary>
    private static async Task<bool> AuthorizeAsync(HttpContext context, HealthEndpointAccess access, TimeProvider timeProvider)
    {
        if (!access.DetailedEnabled)
        {
            await DetailedHealthEndpoint.WriteStatusAsync(context.Response, StatusCodes.Status404NotFound, "not found").ConfigureAwait(false);
            return false;
        }

        if (access.HasDetailedToken(context.Request)
            || DashboardSession.IsValid(access, context.Request.Cookies[DashboardSession.CookieName], timeProvider.GetUtcNow()))
        {
            return true;
        }

        await RefuseAsync(context).ConfigureAwait(false);
        return false;
    }

    private static Task RefuseAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Bearer";
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync("401 Unauthorized: open " + Path + "?" + TokenParameter + "=<detailed token> once to start a session.\n", Encoding.UTF8);
    }
}
