using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace HealthProxy.Consul.Simulator;

/// <summary>The simulated HTTP endpoints: routing, parameter parsing, blocking, plain-text errors.</summary>
internal sealed partial class SimulatorApi(SimulatorState state, ConsulSimulator owner)
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);
    private static readonly string[] Statuses = ["passing", "warning", "critical"];

    public async Task HandleAsync(HttpContext context, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = linked.Token;
        ulong? answeredIndex = null;
        long answeredAt = 0;
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var hadToken = Token(request) is not null;
        try
        {
            var answer = await RouteAsync(context, path, ct).ConfigureAwait(false);
            answeredIndex = answer.Index;
            if (answer.Index is { } index)
            {
                context.Response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);
                context.Response.Headers["X-Consul-KnownLeader"] = "true";
                context.Response.Headers["X-Consul-LastContact"] = "0";
                context.Response.Headers["X-Consul-Effective-Consistency"] = request.Query.ContainsKey("stale") ? "stale" : "leader";
            }

            if (answer.Allow is { } allow)
            {
                context.Response.Headers.Allow = allow;
            }

            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            context.Response.ContentLength = answer.Body.Length;
            answeredAt = Stopwatch.GetTimestamp();
            await context.Response.Body.WriteAsync(answer.Body, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The listener is being killed (or the client left): drop the connection like a dead agent.
            context.Abort();
            return;
        }

        owner.Record(new SimulatorRequest(request.Method, path, request.QueryString.Value ?? "", hadToken, context.Response.StatusCode, answeredIndex, answeredAt));
    }

    private async Task<Answer> RouteAsync(HttpContext context, string path, CancellationToken ct)
    {
        var request = context.Request;
        if (state.Options.AclToken is { } required && Token(request) != required)
        {
            return Token(request) is null
                ? Text(403, "Permission denied: anonymous token lacks permission")
                : Text(403, "ACL not found");
        }

        if (path.StartsWith("/v1/health/service/", StringComparison.Ordinal) || path == "/v1/health/service")
        {
            return Method(request, "GET") ?? await HealthServiceAsync(request, Rest(path, "/v1/health/service/"), ct).ConfigureAwait(false);
        }

        if (path == "/v1/catalog/services")
        {
            return Method(request, "GET") ?? await CatalogServicesAsync(request, ct).ConfigureAwait(false);
        }

        if (path == "/v1/agent/service/register")
        {
            return Method(request, "PUT") ?? await RegisterAsync(request, ct).ConfigureAwait(false);
        }

        if (path.StartsWith("/v1/agent/service/deregister/", StringComparison.Ordinal))
        {
            var id = Rest(path, "/v1/agent/service/deregister/");
            return Method(request, "PUT") ?? (state.Deregister(state.Options.AgentNode, id) ? Ok() : UnknownService(id));
        }

        foreach (var (verb, status) in new[] { ("pass", "passing"), ("warn", "warning"), ("fail", "critical") })
        {
            var prefix = $"/v1/agent/check/{verb}/";
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return Method(request, "PUT") ?? UpdateCheck(Rest(path, prefix), status, request.Query["note"].ToString());
            }
        }

        if (path.StartsWith("/v1/agent/check/update/", StringComparison.Ordinal))
        {
            return Method(request, "PUT") ?? await UpdateFromBodyAsync(request, Rest(path, "/v1/agent/check/update/"), ct).ConfigureAwait(false);
        }

        if (path.StartsWith("/v1/agent/service/maintenance/", StringComparison.Ordinal))
        {
            var id = Rest(path, "/v1/agent/service/maintenance/");
            if (Method(request, "PUT") is { } wrong)
            {
                return wrong;
            }

            if (Enable(request, out var enable) is { } bad)
            {
                return bad;
            }

            return state.SetServiceMaintenance(state.Options.AgentNode, id, enable, request.Query["reason"].ToString()) ? Ok() : UnknownService(id);
        }

        if (path == "/v1/agent/maintenance")
        {
            if (Method(request, "PUT") is { } wrongMethod)
            {
                return wrongMethod;
            }

            if (Enable(request, out var enable) is { } bad)
            {
                return bad;
            }

            state.SetNodeMaintenance(state.Options.AgentNode, enable, request.Query["reason"].ToString());
            return Ok();
        }

        return Text(404, "404 page not found");
    }

    private async Task<Answer> HealthServiceAsync(HttpRequest request, string service, CancellationToken ct)
    {
        if (service.Length == 0)
        {
            return Text(400, "Missing service name");
        }

        if (ReadParameters(request, out var index, out var wait) is { } bad)
        {
            return bad;
        }

        var passing = false;
        if (request.Query.TryGetValue("passing", out var passingValues))
        {
            var text = passingValues.ToString();
            if (text.Length > 0 && !TryParseGoBool(text, out passing))
            {
                return Text(400, "Invalid value for ?passing");
            }

            passing = text.Length == 0 || passing;
        }

        var tags = request.Query["tag"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).ToList();
        Func<SimService, bool> filter = _ => true;
        if (request.Query["filter"].ToString() is { Length: > 0 } filterText && !TryCompileFilter(filterText, out filter))
        {
            return Text(500, $"Failed to create boolean expression evaluator: the simulator does not understand '{filterText}'");
        }

        if (!TryDatacenter(request, out var db, out var fault))
        {
            return NoPathToDatacenter();
        }

        if (fault != SimulatorFault.None)
        {
            return FaultAnswer(db, fault);
        }

        if (index > 0)
        {
            await BlockAsync(db, () => db.IndexFor(service) > index, wait, ct, service).ConfigureAwait(false);
        }

        await DelayAsync(ct).ConfigureAwait(false);
        return db.Read(s =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartArray();
                foreach (var instance in s.ServicesNamed_NeedsLock(service))
                {
                    var checks = s.ChecksFor_NeedsLock(instance).ToList();
                    if ((passing && checks.Any(c => c.Status != "passing"))
                        || !tags.All(t => instance.Tags.Contains(t, StringComparer.OrdinalIgnoreCase))
                        || !filter(instance))
                    {
                        continue;
                    }

                    SimulatorJson.WriteEntry(writer, s.Node_NeedsLock(instance.Node), instance, checks, s.Options.Datacenter);
                }

                writer.WriteEndArray();
            }

            return new Answer(200, "application/json", buffer.WrittenMemory, s.IndexFor_NeedsLock(service));
        });
    }

    private async Task<Answer> CatalogServicesAsync(HttpRequest request, CancellationToken ct)
    {
        if (ReadParameters(request, out var index, out var wait) is { } bad)
        {
            return bad;
        }

        if (request.Query["filter"].ToString().Length > 0)
        {
            return Text(500, "Failed to create boolean expression evaluator: the simulator does not support filter on /v1/catalog/services");
        }

        if (!TryDatacenter(request, out var db, out var fault))
        {
            return NoPathToDatacenter();
        }

        if (fault != SimulatorFault.None)
        {
            return FaultAnswer(db, fault);
        }

        if (index > 0)
        {
            await BlockAsync(db, () => db.Index > index, wait, ct).ConfigureAwait(false);
        }

        await DelayAsync(ct).ConfigureAwait(false);
        return db.Read(s =>
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("consul");
                writer.WriteEndArray();
                foreach (var group in s.AllServices_NeedsLock().GroupBy(x => x.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    SimulatorJson.WriteStrings(writer, group.Key, group.SelectMany(x => x.Tags).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
                }

                writer.WriteEndObject();
            }

            return new Answer(200, "application/json", buffer.WrittenMemory, s.Index_NeedsLock);
        });
    }

    private async Task<Answer> RegisterAsync(HttpRequest request, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return Text(400, "Request decode failed: " + ex.Message);
        }

        using (document)
        {
            var body = document.RootElement;
            try
            {
                var name = JsonBody.String(body, "Name");
                if (string.IsNullOrEmpty(name))
                {
                    return Text(400, "Missing service name");
                }

                var service = new SimService
                {
                    Node = state.Options.AgentNode,
                    Id = JsonBody.String(body, "ID") is { Length: > 0 } id ? id : name,
                    Name = name,
                    Tags = JsonBody.Strings(body, "Tags"),
                    Address = JsonBody.String(body, "Address") ?? "",
                    Port = JsonBody.Int(body, "Port") ?? 0,
                    Meta = JsonBody.Map(body, "Meta"),
                };
                if (service.Meta.Count > 64)
                {
                    return Text(400, "Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs");
                }

                if (JsonBody.Get(body, "Weights") is { } weights)
                {
                    service.WeightPassing = JsonBody.Int(weights, "Passing") ?? 0;
                    service.WeightWarning = JsonBody.Int(weights, "Warning") ?? 0;
                    if (service.WeightPassing < 1)
                    {
                        return Text(400, "Invalid Weights: Passing must be greater than 0");
                    }
                }

                var checks = new List<CheckSpec>();
                foreach (var check in CheckElements(body))
                {
                    if (ReadCheck(check, out var spec) is { } invalid)
                    {
                        return invalid;
                    }

                    checks.Add(spec!);
                }

                state.Register(state.Options.AgentNode, state.Options.AgentAddress, service, checks, request.Query.ContainsKey("replace-existing-checks"));
                return Ok();
            }
            catch (FormatException ex)
            {
                return Text(400, "Request decode failed: " + ex.Message);
            }
        }
    }

    private static IEnumerable<JsonElement> CheckElements(JsonElement body)
    {
        if (JsonBody.Get(body, "Check") is { ValueKind: JsonValueKind.Object } single)
        {
            yield return single;
        }

        if (JsonBody.Get(body, "Checks") is { ValueKind: JsonValueKind.Array } many)
        {
            foreach (var check in many.EnumerateArray())
            {
                yield return check;
            }
        }
    }

    private static Answer? ReadCheck(JsonElement check, out CheckSpec? spec)
    {
        spec = null;
        var ttl = JsonBody.Duration(check, "TTL");
        var interval = JsonBody.Duration(check, "Interval");
        var status = JsonBody.String(check, "Status");
        if (status is { Length: > 0 } && !Statuses.Contains(status))
        {
            return Text(400, $"Invalid check status: '{status}'");
        }

        if (ttl is not null && interval is not null)
        {
            return Text(400, "Invalid check: Interval and TTL cannot both be specified");
        }

        if (ttl is { } t && t <= TimeSpan.Zero)
        {
            return Text(400, "Invalid check: TTL must be > 0 for TTL checks");
        }

        var type = ttl is not null ? "ttl"
            : JsonBody.Get(check, "HTTP") is not null ? "http"
            : JsonBody.Get(check, "TCP") is not null ? "tcp"
            : JsonBody.Get(check, "Args") is not null ? "script"
            : null;
        if (type is null)
        {
            return Text(400, "Invalid check: TTL or Script/HTTP/TCP/... with Interval must be specified");
        }

        var deregisterAfter = JsonBody.Duration(check, "DeregisterCriticalServiceAfter");
        spec = new CheckSpec(
            JsonBody.String(check, "CheckID") is { Length: > 0 } id ? id : JsonBody.String(check, "ID") is { Length: > 0 } id2 ? id2 : null,
            JsonBody.String(check, "Name") is { Length: > 0 } name ? name : null,
            status is { Length: > 0 } ? status : null,
            ttl,
            JsonBody.String(check, "Notes"),
            null,
            type,
            JsonBody.Int(check, "OutputMaxSize") ?? 0,
            deregisterAfter);
        return null;
    }

    private Answer UpdateCheck(string checkId, string status, string? output) =>
        state.UpdateCheck(state.Options.AgentNode, checkId, status, output, ttlOnly: true) switch
        {
            CheckUpdateResult.Updated => Ok(),
            CheckUpdateResult.NotTtl => Text(500, $"CheckID \"{checkId}\" does not have associated TTL"),
            _ => Text(404, $"Unknown check ID \"{checkId}\". Ensure that the check ID is passed, not the check name."),
        };

    private async Task<Answer> UpdateFromBodyAsync(HttpRequest request, string checkId, CancellationToken ct)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false);
            var status = JsonBody.String(document.RootElement, "Status") ?? "";
            if (!Statuses.Contains(status))
            {
                return Text(400, $"Invalid check status: '{status}'");
            }

            return UpdateCheck(checkId, status, JsonBody.String(document.RootElement, "Output") ?? "");
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return Text(400, "Request decode failed: " + ex.Message);
        }
    }

    private static Answer? ReadParameters(HttpRequest request, out ulong index, out TimeSpan wait)
    {
        index = 0;
        wait = DefaultWait;
        if (request.Query.ContainsKey("stale") && request.Query.ContainsKey("consistent"))
        {
            return Text(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
        }

        if (request.Query["ns"].ToString().Length > 0)
        {
            return Text(400, "Invalid query parameter: \"ns\" - Namespaces are a Consul Enterprise feature");
        }

        if (request.Query.TryGetValue("index", out var indexText)
            && !ulong.TryParse(indexText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            return Text(400, "Invalid index");
        }

        if (request.Query.TryGetValue("wait", out var waitText))
        {
            if (!GoDurationParser.TryParse(waitText.ToString(), out wait) || waitText.ToString().All(char.IsAsciiDigit))
            {
                return Text(400, "Invalid wait time");
            }

            wait = wait > MaxWait ? MaxWait : wait;
        }

        return null;
    }

    private async Task BlockAsync(SimulatorState db, Func<bool> done, TimeSpan wait, CancellationToken ct, string? service = null)
    {
        // Consul adds up to wait/16 of jitter so that many watchers do not return together.
        var jittered = wait + (wait / 16 * Random.Shared.NextDouble());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var elapsed = Task.Delay(jittered, db.TimeProvider, timeout.Token);
        owner.QueryBlocked(+1, service);
        try
        {
            while (true)
            {
                var change = db.NextChange();
                if (done())
                {
                    return;
                }

                if (await Task.WhenAny(change, elapsed).ConfigureAwait(false) == elapsed)
                {
                    ct.ThrowIfCancellationRequested();
                    return;
                }
            }
        }
        finally
        {
            owner.QueryBlocked(-1, service);
            await timeout.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The datacenter a read asks with <c>?dc=</c>: absent or the agent's own is the local catalog; another one
    /// the test added answers from its own catalog, index and fault; any other is unknown.
    /// </summary>
    private bool TryDatacenter(HttpRequest request, out SimulatorState db, out SimulatorFault fault)
    {
        var name = request.Query["dc"].ToString();
        if (name.Length == 0 || name == state.Options.Datacenter)
        {
            db = state;
            fault = owner.Fault;
            return true;
        }

        if (owner.TryGetDatacenter(name, out var remote))
        {
            db = remote.State;
            fault = remote.Fault;
            return true;
        }

        db = state;
        fault = SimulatorFault.None;
        return false;
    }

    /// <summary>Consul's answer for a datacenter it has no route to (agent/consul/rpc.go: <c>structs.ErrNoDCPath</c>).</summary>
    private static Answer NoPathToDatacenter() => Text(500, "No path to datacenter");

    private async Task DelayAsync(CancellationToken ct)
    {
        if (owner.ResponseDelay is { } delay && delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, state.TimeProvider, ct).ConfigureAwait(false);
        }
    }

    private static Answer FaultAnswer(SimulatorState db, SimulatorFault fault) => fault switch
    {
        SimulatorFault.MalformedJson => new Answer(200, "application/json", Encoding.UTF8.GetBytes("[{\"Node\": {\"Node\": \"n1\"}, \"Service\": "), db.Index),
        SimulatorFault.OversizedBody => new Answer(200, "application/json", OversizedBody.Value, db.Index),
        SimulatorFault.Forbidden => Text(403, "Permission denied: token with AccessorID 'simulated' lacks permission 'service:read' on \"x\""),
        SimulatorFault.MissingFields => new Answer(200, "application/json", Encoding.UTF8.GetBytes("[{\"Checks\": []}]"), db.Index),
        _ => Text(500, "simulated internal error: rpc error making call: No cluster leader"),
    };

    private static readonly Lazy<byte[]> OversizedBody = new(() =>
    {
        // 10 MB of valid JSON: a string array, so only the size is wrong.
        var builder = new StringBuilder(10 * 1024 * 1024 + 64).Append('[');
        var item = "\"" + new string('x', 1022) + "\"";
        while (builder.Length < 10 * 1024 * 1024)
        {
            builder.Append(item).Append(',');
        }

        builder.Append("\"end\"]");
        return Encoding.UTF8.GetBytes(builder.ToString());
    });

    private static bool TryCompileFilter(string text, out Func<SimService, bool> filter)
    {
        var clauses = new List<Func<SimService, bool>>();
        foreach (var clause in text.Split(" and ", StringSplitOptions.TrimEntries))
        {
            if (InTags().Match(clause) is { Success: true } inTags)
            {
                var tag = inTags.Groups[1].Value;
                clauses.Add(s => s.Tags.Contains(tag, StringComparer.Ordinal));
            }
            else if (MetaEquals().Match(clause) is { Success: true } meta)
            {
                var (key, op, value) = (meta.Groups[1].Value, meta.Groups[2].Value, meta.Groups[3].Value);
                clauses.Add(s => (s.Meta.TryGetValue(key, out var v) && v == value) == (op == "=="));
            }
            else if (IdEquals().Match(clause) is { Success: true } id)
            {
                var (op, value) = (id.Groups[1].Value, id.Groups[2].Value);
                clauses.Add(s => (s.Id == value) == (op == "=="));
            }
            else
            {
                filter = _ => false;
                return false;
            }
        }

        filter = s => clauses.All(c => c(s));
        return true;
    }

    [GeneratedRegex("""^"([^"]*)"\s+in\s+Service\.Tags$""")]
    private static partial Regex InTags();

    [GeneratedRegex("""^Service\.Meta\.([A-Za-z0-9_\-]+)\s*(==|!=)\s*"([^"]*)"$""")]
    private static partial Regex MetaEquals();

    [GeneratedRegex("""^Service\.ID\s*(==|!=)\s*"([^"]*)"$""")]
    private static partial Regex IdEquals();

    private static Answer? Enable(HttpRequest request, out bool enable)
    {
        enable = false;
        if (!request.Query.TryGetValue("enable", out var values) || values.ToString().Length == 0)
        {
            return Text(400, "Missing value for enable");
        }

        return TryParseGoBool(values.ToString(), out enable) ? null : Text(400, "Invalid value for enable");
    }

    private static bool TryParseGoBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    private static string? Token(HttpRequest request)
    {
        if (request.Query["token"] is { Count: > 0 } query && query.ToString().Length > 0)
        {
            return query.ToString();
        }

        if (request.Headers["X-Consul-Token"] is { Count: > 0 } header && header.ToString().Length > 0)
        {
            return header.ToString();
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }

    private static Answer? Method(HttpRequest request, string allowed) =>
        string.Equals(request.Method, allowed, StringComparison.OrdinalIgnoreCase)
            ? null
            : Text(405, $"method {request.Method} not allowed") with { Allow = allowed };

    private static string Rest(string path, string prefix) =>
        path.Length <= prefix.Length ? "" : Uri.UnescapeDataString(path[prefix.Length..]);

    private static Answer UnknownService(string id) =>
        Text(404, $"Unknown service ID \"{id}\". Ensure that the service ID is passed, not the service name.");

    private static Answer Ok() => new(200, "application/json", ReadOnlyMemory<byte>.Empty, null);

    private static Answer Text(int status, string message) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message), null);

    private sealed record Answer(int Status, string ContentType, ReadOnlyMemory<byte> Body, ulong? Index)
    {
        public string? Allow { get; init; }
    }
}
