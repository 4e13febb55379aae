using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace HealthProxy.Reliability.Tests.Input;

/// <summary>
/// Hostile requests to the gateway's own endpoints. Whatever arrives: never the detailed view without the
/// token, never a 500, no stack trace, type name, file path or destination address in a body, the
/// detailed token never forwarded to a backend, and the gateway still serves a good request after each attack.
/// </summary>
public sealed class HostileRequestTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Suite = "input";
    private const string Token = "s3cret-detailed-token";

    private static readonly string[] OwnEndpoints = ["/health", "/health/startup", "/health/ready", "/health/live", "/health/detailed", "/metrics", "/dashboard"];

    private Backend _backend = null!;
    private GatewayHost _gateway = null!;
    private readonly List<string> _failures = [];
    private long _requests;

    public async Task InitializeAsync()
    {
        _backend = Backend.Start("a");
        _gateway = await StartGatewayAsync(new Dictionary<string, string?>());
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _backend.Dispose();
    }

    [Fact]
    public async Task Input_OversizedHeadersAndBodies_RefusedWithoutA500()
    {
        var watch = Stopwatch.StartNew();
        var statuses = new SortedSet<int>();
        foreach (var path in OwnEndpoints)
        {
            foreach (var (name, request) in new (string, string)[]
            {
                ("64 KB header", $"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 64 * 1024)}\r\nConnection: close\r\n\r\n"),
                ("1000 headers", $"GET {path} HTTP/1.1\r\nHost: x\r\n{string.Concat(Enumerable.Range(0, 1000).Select(i => $"X-H{i}: v\r\n"))}Connection: close\r\n\r\n"),
                ("16 KB request line", $"GET {path}?{new string('q', 16 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                ("1 MB body on GET", $"GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {1024 * 1024}\r\nConnection: close\r\n\r\n{new string('b', 1024 * 1024)}"),
                ("40 MB declared body", $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {40 * 1024 * 1024}\r\nConnection: close\r\n\r\n{new string('b', 64 * 1024)}"),
            })
            {
                var answer = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, request);
                statuses.Add(answer.Status);
                Check($"{name} to {path}", answer, detailedAllowed: false);
                await CheckStillServingAsync($"{name} to {path}");
            }
        }

        Report("oversized headers/bodies to /health*, /metrics, /dashboard", $"statuses {string.Join(",", statuses)}; {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Input_PathTricks_NeverReachTheDetailedViewOrForwardTheToken()
    {
        var watch = Stopwatch.StartNew();
        string[] paths =
        [
            "/health/detailed", "/health/detailed/", "/health/detailed//", "//health/detailed", "/HEALTH/DETAILED", "/Health/Detailed/",
            "/health/detailed/../detailed", "/health/x/../detailed", "/health/%2e%2e/health/detailed", "/health/detailed/%2e%2e/detailed",
            "/health%2Fdetailed", "/health/detailed%2F", "/health/detailed.", "/health/detailed..", "/health/./detailed", "/health/detailed%00",
            "/health/detailed;x", "/health/detailed?x=1", "/health/detailed#x", "/%68ealth/detailed", "/health/detailed%20", "http://evil/health/detailed",
            "/metrics/../health/detailed", "/dashboard/../health/detailed", "*",
        ];
        var proxied = 0;
        foreach (var path in paths)
        {
            var anonymous = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, $"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Check($"{path} without a token", anonymous, detailedAllowed: false);

            // With the token, a path that is not the detailed endpoint is proxied: the token must stay here.
            var withToken = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, $"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {Token}\r\nConnection: close\r\n\r\n");
            Check($"{path} with the token", withToken, detailedAllowed: true);
            proxied += withToken.Head.Contains("X-Served-By", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
            await CheckStillServingAsync(path);
        }

        var leaked = _backend.Server.LogEntries.Count(e => e.RequestMessage.Headers?.Values.Any(v => v.Any(h => h.Contains(Token, StringComparison.Ordinal))) == true);
        if (leaked > 0)
        {
            _failures.Add($"the backend received the detailed token {leaked} times");
        }

        Report("path tricks on /health/detailed (../, %2e%2e, //, case, dots, %2F)", $"{paths.Length} paths x2; {proxied} proxied with the token, token at backend {leaked}x; {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Input_HostileAuthorization_NeverLetsAnyoneIn()
    {
        var watch = Stopwatch.StartNew();
        var hugeToken = new string('t', 1024 * 1024);
        (string Name, string Headers, bool Valid)[] attacks =
        [
            ("1 MB bearer token", $"Authorization: Bearer {hugeToken}\r\n", false),
            ("1 MB token starting with the real one", $"Authorization: Bearer {Token}{hugeToken}\r\n", false),
            ("token + CRLF injected header", $"Authorization: Bearer {Token}\r\nX-Injected: 1\r\n", true),
            ("CR inside the token", $"Authorization: Bearer {Token[..4]}\r{Token[4..]}\r\n", false),
            ("LF inside the token", $"Authorization: Bearer {Token[..4]}\n{Token[4..]}\r\n", false),
            ("NUL inside the token", $"Authorization: Bearer {Token[..4]}\0{Token[4..]}\r\n", false),
            ("NUL after the token", $"Authorization: Bearer {Token}\0\r\n", false),
            ("two Authorization headers, good first", $"Authorization: Bearer {Token}\r\nAuthorization: Bearer wrong\r\n", false),
            ("two Authorization headers, good second", $"Authorization: Bearer wrong\r\nAuthorization: Bearer {Token}\r\n", false),
            ("Basic scheme", $"Authorization: Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes("x:" + Token))}\r\n", false),
            ("token without scheme", $"Authorization: {Token}\r\n", false),
            ("Token scheme", $"Authorization: Token {Token}\r\n", false),
            ("Bearer without token", "Authorization: Bearer\r\n", false),
            ("Bearer and spaces", "Authorization: Bearer     \r\n", false),
            ("token prefix", $"Authorization: Bearer {Token[..^1]}\r\n", false),
            ("token in another header", $"X-Authorization: Bearer {Token}\r\nProxy-Authorization: Bearer {Token}\r\n", false),
            ("token in the cookie", $"Cookie: token={Token}\r\n", false),
            ("X-Forwarded-For loopback spoof", "X-Forwarded-For: 127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\n", false),
            ("obs-fold continuation", $"Authorization: Bearer\r\n {Token}\r\n", false),
            ("latin-1 bytes in the token", "Authorization: Bearer \u00ff\u00fe\r\n", false),
            ("lower-case scheme (RFC 7235: case-insensitive)", $"Authorization: bearer {Token}\r\n", true),
        ];
        var statuses = new SortedSet<int>();
        foreach (var (name, headers, valid) in attacks)
        {
            foreach (var path in new[] { "/health/detailed", "/metrics", "/dashboard" })
            {
                var answer = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, $"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
                statuses.Add(answer.Status);
                Check($"{name} to {path}", answer, detailedAllowed: valid);
                if (valid && path == "/health/detailed" && answer.Status != 200)
                {
                    _failures.Add($"{name}: a valid token got {answer.Status}");
                }
            }

            await CheckStillServingAsync(name);
        }

        // HTTP/1.0 without Host, and an absolute-form target naming another host.
        foreach (var request in new[]
        {
            "GET /health/detailed HTTP/1.0\r\n\r\n",
            $"GET /health/detailed HTTP/1.0\r\nAuthorization: Bearer wrong\r\n\r\n",
            "GET http://10.0.0.1/health/detailed HTTP/1.1\r\nHost: 10.0.0.1\r\nConnection: close\r\n\r\n",
        })
        {
            var answer = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, request);
            statuses.Add(answer.Status);
            Check(request.Split("\r\n")[0], answer, detailedAllowed: false);
            await CheckStillServingAsync(request.Split("\r\n")[0]);
        }

        Report("hostile Authorization (1 MB, CR/LF/NUL, duplicates, schemes, XFF, HTTP/1.0)", $"{attacks.Length} attacks x3 endpoints + 3; statuses {string.Join(",", statuses)}; {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Input_AllowlistAndForwardedFor_NoBypass()
    {
        // Only 10.0.0.0/8 may read the health endpoints and no proxy is trusted: this test (127.0.0.1) must be refused
        // on every spelling of every health path, whatever X-Forwarded-For says.
        await using var locked = await StartGatewayAsync(new Dictionary<string, string?> { ["HealthProxy:Security:AllowedNetworks:0"] = "10.0.0.0/8" }, waitStarted: false);
        var watch = Stopwatch.StartNew();
        var served = 0;
        foreach (var path in new[] { "/health", "/health/ready", "/health/startup", "/health/live", "/health/detailed", "/dashboard" })
        {
            foreach (var spelling in new[] { path, path + "/", path.ToUpperInvariant(), path + "//", path + "?x=1", path.Replace("/health", "/health/../health", StringComparison.Ordinal) })
            {
                foreach (var forwarded in new[] { "", "X-Forwarded-For: 10.1.2.3\r\n", "X-Forwarded-For: 10.1.2.3, 127.0.0.1\r\nForwarded: for=10.1.2.3\r\n" })
                {
                    var answer = await RawHttp.SendAsync(locked.Client.BaseAddress!, $"GET {spelling} HTTP/1.1\r\nHost: x\r\n{forwarded}Authorization: Bearer {Token}\r\nConnection: close\r\n\r\n");
                    Interlocked.Increment(ref _requests);
                    var proxied = answer.Head.Contains("X-Served-By", StringComparison.OrdinalIgnoreCase);
                    if (!proxied && answer.Status is not (403 or 404 or 400))
                    {
                        served++;
                        _failures.Add($"allowlist bypassed: {spelling} {forwarded.Trim()} -> {answer.Status} {Shorten(answer.Body)}");
                    }

                    Check($"{spelling} from outside the allowlist", answer, detailedAllowed: false);
                }
            }
        }

        Report("allowlist: path spellings and X-Forwarded-For without a trusted proxy", $"{served} health answers to a refused caller; {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Input_RawGarbageOnTheSocket_GatewayStaysUp()
    {
        var watch = Stopwatch.StartNew();
        var random = new Random(1234);
        var garbage = new List<(string Name, byte[] Bytes)>
        {
            ("empty line", "\r\n\r\n"u8.ToArray()),
            ("unknown version", "GET /health/detailed HTTP/9.9\r\nHost: x\r\n\r\n"u8.ToArray()),
            ("no version", "GET /health/detailed\r\n\r\n"u8.ToArray()),
            ("bad method", "G\u0001T /health/detailed HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()),
            ("space in target", "GET /health/ detailed HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()),
            ("header without colon", "GET /metrics HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n"u8.ToArray()),
            ("two Content-Length", "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 5\r\n\r\nhello"u8.ToArray()),
            ("CL and TE (smuggling)", "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health/detailed HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()),
            ("bad chunk size", "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"u8.ToArray()),
            ("HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray()),
            ("TLS client hello", [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
            ("truncated request line", "GET /health/deta"u8.ToArray()),
            ("truncated headers", "GET /health/detailed HTTP/1.1\r\nHost: x\r\nAuthoriz"u8.ToArray()),
            ("NUL in the target", "GET /health/detailed\0 HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()),
            ("non-ASCII target", Encoding.UTF8.GetBytes("GET /health/détaillé HTTP/1.1\r\nHost: x\r\n\r\n")),
        };
        for (var i = 0; i < ReliabilityMode.Pick(20, 500); i++)
        {
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            garbage.Add(($"random {bytes.Length} bytes #{i}", bytes));
        }

        var statuses = new SortedSet<int>();
        foreach (var (name, bytes) in garbage)
        {
            // Truncated input is followed by silence: the server's own timeouts must end it, so wait a little only.
            var answer = await RawHttp.SendAsync(_gateway.Client.BaseAddress!, bytes, TimeSpan.FromSeconds(2));
            statuses.Add(answer.Status);
            Check(name, answer, detailedAllowed: false);
            await CheckStillServingAsync(name);
        }

        Report("raw garbage on the socket (bad framing, smuggling, TLS, random bytes)", $"{garbage.Count} payloads; statuses {string.Join(",", statuses)}; {watch.Elapsed.TotalSeconds:F1} s");
    }

    private async Task<GatewayHost> StartGatewayAsync(Dictionary<string, string?> extra, bool waitStarted = true)
    {
        var settings = GatewaySettings.For([_backend]);
        settings["HealthProxy:Security:DetailedToken"] = Token;
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var gateway = await GatewayHost.StartAsync(settings);
        if (waitStarted)
        {
            await gateway.WaitStartedAsync();
        }

        return gateway;
    }

    /// <summary>What must hold for every answer, whatever was sent.</summary>
    private void Check(string attack, RawHttp.Answer answer, bool detailedAllowed)
    {
        Interlocked.Increment(ref _requests);
        // The backend's own Kestrel runs in this test process and reports to the same meters, so its server-side
        // lines (its own port) are an artifact of the test, not a leak of the gateway's.
        var text = string.Join('\n', answer.Text.Split('\n').Where(line => !line.Contains("otel_scope_name=\"Microsoft.AspNetCore.", StringComparison.Ordinal)));
        if (answer.Status == 500)
        {
            _failures.Add($"{attack}: 500");
        }

        if (!detailedAllowed && answer.Status == 200 && (text.Contains("\"cascades\"", StringComparison.Ordinal) || text.Contains("\"generatedAt\"", StringComparison.Ordinal)))
        {
            _failures.Add($"{attack}: the detailed view without a valid token");
        }

        // The Prometheus exposition names meters (System.Runtime, HealthProxy.Gateway) and OTel's error.type
        // labels by design; stack traces, paths, destinations and the token are never allowed anywhere.
        var backend = new Uri(_backend.Url);
        var metrics = answer.Head.Contains("text/plain; version=0.0.4", StringComparison.Ordinal);
        string[] typeNames = metrics ? [] : ["Exception", "System.", "Microsoft.", "HealthProxy."];
        foreach (var leak in typeNames.Concat(["   at ", ".cs:line", "/work/", "/home/", $"{backend.Host}:{backend.Port}", $":{backend.Port}/", $"server_port=\"{backend.Port}\"", Token]))
        {
            if (text.Contains(leak, StringComparison.Ordinal))
            {
                var at = text.IndexOf(leak, StringComparison.Ordinal);
                var line = text[(text.LastIndexOf('\n', at) + 1)..];
                _failures.Add($"{attack} -> {answer.Status}: the answer contains '{leak}': {Shorten(line.Split('\n')[0])}");
            }
        }
    }

    private async Task CheckStillServingAsync(string attack)
    {
        Interlocked.Increment(ref _requests);
        using var live = await _gateway.Client.GetAsync("/health/live");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/detailed");
        request.Headers.Authorization = new("Bearer", Token);
        using var detailed = await _gateway.Client.SendAsync(request);
        using var proxied = await _gateway.Client.GetAsync("/anything");
        if (live.StatusCode != HttpStatusCode.OK || detailed.StatusCode != HttpStatusCode.OK || proxied.StatusCode != HttpStatusCode.OK)
        {
            _failures.Add($"after {attack}: live {(int)live.StatusCode}, detailed {(int)detailed.StatusCode}, proxied {(int)proxied.StatusCode}");
        }
    }

    private void Report(string scenario, string details)
    {
        foreach (var failure in _failures.Take(20))
        {
            output.WriteLine(failure);
        }

        var summary = _failures.Count == 0 ? details : $"{details}; first failure: {_failures[0]}";
        ScenarioTable.Report(output, new ScenarioResult(Suite, scenario, _requests, _failures.Count, _failures.Count == 0, summary));
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "..." : text;
}
