using System.Text.Json;
using HealthProxy.Gateway.Routing;
using HealthProxy.Gateway.Views;
using HealthProxy.Health;
using HealthProxy.Health.Views;
using Microsoft.AspNetCore.Http;

namespace HealthProxy.Gateway.Endpoints;

/// <summary>
/// <c>/health/detailed</c>: every view, the dependency graph, the blast radii, and each destination's
/// last transition. Behind the bearer token; without one configured it does not exist (404).
/// </summary>
/// <remarks>
/// Shows cluster, category and destination ids, never addresses, and no exception text: what a
/// monitoring tool needs to judge, nothing that helps someone reach the instances.
/// </remarks>
internal static class DetailedHealthEndpoint
{
    public const string Path = "/health/detailed";

    public static async Task HandleAsync(HttpContext context, HealthEndpointAccess access, HealthViews views, RoutingTable table, TimeProvider timeProvider)
    {
        var response = context.Response;
        if (!access.DetailedEnabled)
        {
            await WriteStatusAsync(response, StatusCodes.Status404NotFound, "not found").ConfigureAwait(false);
            return;
        }

        if (!access.HasDetailedToken(context.Request))
        {
            response.Headers.WWWAuthenticate = "Bearer";
            await WriteStatusAsync(response, StatusCodes.Status401Unauthorized, "unauthorized").ConfigureAwait(false);
            return;
        }

        var snapshot = views.Current;
        var now = timeProvider.GetUtcNow();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(response.Body, new JsonWriterOptions { Indented = false });
        writer.WriteStartObject();
        writer.WriteString("status", HealthViewJson.Name(snapshot.Overall.Health));
        writer.WriteString("generatedAt", now);
        writer.WriteNumber("version", snapshot.Version);
        writer.WritePropertyName("overall");
        HealthViewJson.WriteGroup(writer, snapshot.Overall);

        writer.WriteStartObject("categories");
        foreach (var (category, group) in snapshot.Categories.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WritePropertyName(category);
            HealthViewJson.WriteGroup(writer, group);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("services");
        foreach (var (id, service) in snapshot.Services.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            WriteService(writer, snapshot, service, table, now);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("graph");
        foreach (var (service, dependencies) in snapshot.Graph.Dependencies.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            HealthViewJson.WriteStrings(writer, service, dependencies);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("cascades");
        foreach (var cascade in snapshot.Cascades.Values.OrderBy(c => c.Root, StringComparer.Ordinal))
        {
            writer.WriteStartObject();
            writer.WriteString("root", cascade.Root);
            writer.WriteString("since", cascade.Since);
            writer.WriteNumber("ageSeconds", Age(now, cascade.Since));
            HealthViewJson.WriteStrings(writer, "affected", cascade.Affected);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteService(Utf8JsonWriter writer, HealthViewSnapshot snapshot, ServiceHealthView service, RoutingTable table, DateTimeOffset now)
    {
        writer.WriteStartObject(service.Service);
        writer.WriteString("status", HealthViewJson.Name(service.Health));
        writer.WriteString("category", service.Category);
        writer.WriteBoolean("serving", service.Serving);
        writer.WriteBoolean("critical", service.Critical);
        writer.WriteNumber("healthyInstances", service.Healthy);
        writer.WriteNumber("readEligibleInstances", service.ReadEligible);
        writer.WriteNumber("instances", service.Total);
        writer.WriteString("since", service.Since);
        writer.WriteNumber("ageSeconds", Age(now, service.Since));
        HealthViewJson.WriteStrings(writer, "dependsOn", snapshot.Graph.DependenciesOf(service.Service));
        HealthViewJson.WriteStrings(writer, "dependents", snapshot.Graph.DependentsOf(service.Service));
        var roots = snapshot.AffectedBy.TryGetValue(service.Service, out var affectedBy) ? affectedBy : [];
        writer.WriteBoolean("potentiallyAffected", roots.Length > 0);
        HealthViewJson.WriteStrings(writer, "affectedBy", roots);
        table.TryGet(service.Service, out var routing);
        if (routing is not null)
        {
            // Which instances serve each kind now: healthy, healthy+degraded, degraded, or all (the fallback).
            writer.WriteStartObject("serving");
            writer.WriteString("reads", routing.Tier(RequestKind.Read));
            writer.WriteString("writes", routing.Tier(RequestKind.Write));
            writer.WriteEndObject();

            HealthViewJson.WriteFailover(writer, routing, now);
        }

        writer.WriteStartObject("destinations");
        if (routing is not null)
        {
            var weights = routing.Weights(now).ToDictionary(w => w.DestinationId, StringComparer.Ordinal);
            foreach (var (id, instance) in routing.Instances.OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject(id);
                writer.WriteString("state", instance.State?.ToWireName() ?? "unknown");
                writer.WriteString("source", instance.Source?.ToString().ToLowerInvariant() ?? "none");
                writer.WriteString("since", instance.Since);
                writer.WriteNumber("ageSeconds", Age(now, instance.Since));
                if (weights.TryGetValue(id, out var weight))
                {
                    HealthViewJson.WriteWeight(writer, weight, instance, routing.Settings, now);
                }

                writer.WriteEndObject();
            }
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static double Age(DateTimeOffset now, DateTimeOffset since) => Math.Round(Math.Max(0, (now - since).TotalSeconds), 3);

    internal static Task WriteStatusAsync(HttpResponse response, int statusCode, string status)
    {
        response.StatusCode = statusCode;
        response.ContentType = "application/json";
        return response.WriteAsync("{\"status\":\"" + status + "\"}");
    }
}
