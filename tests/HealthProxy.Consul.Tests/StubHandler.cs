using System.Net;
using System.Text;

namespace HealthProxy.Consul.Tests;

/// <summary>Answers every request with a fixed status, body and headers, and remembers the requests.</summary>
internal sealed class StubHandler(HttpStatusCode status, string body, string contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    public List<string?> Bodies { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        Bodies.Add(request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken));
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }
}
