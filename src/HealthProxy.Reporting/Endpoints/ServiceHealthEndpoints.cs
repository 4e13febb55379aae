using System.Text;
using HealthProxy.Health;
using HealthProxy.Reporting.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HealthProxy.Reporting.Endpoints;

/// <summary>The handlers of the three endpoints. Bodies are written by hand: small, fixed, and no reflection.</summary>
internal sealed class ServiceHealthEndpoints
{
    private static readonly byte[] StartingBody = Encoding.UTF8.GetBytes(StatusDocumentJson.Write(new StatusDocument { Status = HealthState.Starting }));
    private static readonly byte[] StartedBody = Encoding.UTF8.GetBytes("""{"status":"ready"}""");
    private static readonly byte[] AliveBody = Encoding.UTF8.GetBytes("""{"status":"alive"}""");

    private readonly IServiceLifecycle _lifecycle;
    private readonly IServiceStatusProvider _status;

    public ServiceHealthEndpoints(IServiceLifecycle lifecycle, IServiceStatusProvider status)
    {
        _lifecycle = lifecycle;
        _status = status;
    }

    public Task StartupAsync(HttpContext context) =>
        _lifecycle.State == ServiceLifecycleState.Starting
            ? WriteAsync(context, StatusCodes.Status503ServiceUnavailable, StartingBody)
            : WriteAsync(context, StatusCodes.Status200OK, StartedBody);

    public async Task ReadyAsync(HttpContext context)
    {
        var document = await _status.GetStatusAsync(context.RequestAborted).ConfigureAwait(false);
        var code = document.Status is HealthState.Healthy or HealthState.Degraded
            ? StatusCodes.Status200OK
            : StatusCodes.Status503ServiceUnavailable;
        await WriteAsync(context, code, Encoding.UTF8.GetBytes(StatusDocumentJson.Write(document))).ConfigureAwait(false);
    }

    public static Task LiveAsync(HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, AliveBody);

    private static Task WriteAsync(HttpContext context, int statusCode, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        response.Headers[HeaderNames.CacheControl] = "no-store, no-cache";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }
}
