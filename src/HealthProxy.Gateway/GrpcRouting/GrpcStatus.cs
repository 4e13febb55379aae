using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Gateway.GrpcRouting;

/// <summary>
/// gRPC status codes as they travel in the <c>grpc-status</c> header or trailer: their names, sets of them, and
/// reading a response's status without allocating.
/// </summary>
internal static class GrpcStatus
{
    public const int Ok = 0;
    public const int Cancelled = 1;
    public const int Unknown = 2;
    public const int DeadlineExceeded = 4;
    public const int ResourceExhausted = 8;
    public const int Internal = 13;
    public const int Unavailable = 14;
    public const int DataLoss = 15;

    /// <summary>The codes' names, by code, as the gRPC spec spells them (also the <c>grpc_status</c> metric tag).</summary>
    public static readonly string[] Names =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    /// <summary>The tag for a response without a readable <c>grpc-status</c> (a transport error, a non-gRPC answer).</summary>
    public const string NoStatus = "none";

    /// <summary>
    /// The codes an instance may be judged by: the ones a server reports about itself. The others describe the
    /// request (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ...), so a client could provoke them at will.
    /// </summary>
    public static readonly int[] InstanceCodes = [Unknown, DeadlineExceeded, ResourceExhausted, 10 /* ABORTED */, Internal, Unavailable, DataLoss];

    /// <summary>The name of <paramref name="code"/>, or <see cref="NoStatus"/> for none or one outside the spec.</summary>
    public static string Name(int code) => IsDefined(code) ? Names[code] : NoStatus;

    /// <summary>Whether <paramref name="code"/> is one of the spec's codes (0 to 16).</summary>
    public static bool IsDefined(int code) => (uint)code < (uint)Names.Length;

    /// <summary>Parses a code name (any case, e.g. <c>UNAVAILABLE</c> or <c>unavailable</c>) or number.</summary>
    public static bool TryParseName(string text, out int code)
    {
        var trimmed = text.Trim();
        if (int.TryParse(trimmed, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out code))
        {
            return code < Names.Length;
        }

        code = Array.FindIndex(Names, n => string.Equals(n, trimmed.Replace('-', '_'), StringComparison.OrdinalIgnoreCase));
        return code >= 0;
    }

    /// <summary>
    /// The response's gRPC status: from its headers (a trailers-only response) or else its trailers; -1 when neither
    /// carries one.
    /// </summary>
    public static int Of(HttpResponse response)
    {
        var code = Parse(response.Headers.GrpcStatus);
        if (code < 0 && response.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers is { } trailers)
        {
            code = Parse(trailers.GrpcStatus);
        }

        return code;
    }

    /// <summary>Reads a <c>grpc-status</c> value (one to three digits); -1 when it is missing or unreadable.</summary>
    public static int Parse(StringValues values)
    {
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= 3 } text)
        {
            return -1;
        }

        var code = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return -1;
            }

            code = (code * 10) + (c - '0');
        }

        return code;
    }
}

/// <summary>An immutable set of gRPC status codes (0 to 16), one bit each.</summary>
internal readonly record struct GrpcStatusSet(int Bits)
{
    public static GrpcStatusSet Empty => default;

    public static GrpcStatusSet Of(params int[] codes) => new(codes.Aggregate(0, (bits, code) => bits | (1 << code)));

    public bool Contains(int code) => (uint)code < 32 && (Bits & (1 << code)) != 0;

    /// <summary>
    /// Parses a comma list of code names or numbers, each one a server reports about itself
    /// (<see cref="GrpcStatus.InstanceCodes"/>); <paramref name="problem"/> says what is wrong otherwise.
    /// </summary>
    public static bool TryParseInstanceCodes(string? text, out GrpcStatusSet set, out string? problem)
    {
        set = Empty;
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "is empty";
            return false;
        }

        var bits = 0;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!GrpcStatus.TryParseName(part, out var code))
            {
                problem = $"names '{part}', which is not a gRPC status code";
                return false;
            }

            if (Array.IndexOf(GrpcStatus.InstanceCodes, code) < 0)
            {
                problem = $"names {GrpcStatus.Names[code]}, which describes the request, not the instance";
                return false;
            }

            bits |= 1 << code;
        }

        set = new GrpcStatusSet(bits);
        return true;
    }

    /// <summary>The codes' names, comma-separated, for messages and docs.</summary>
    public override string ToString() =>
        string.Join(',', Enumerable.Range(0, GrpcStatus.Names.Length).Where(Contains).Select(c => GrpcStatus.Names[c]));
}
