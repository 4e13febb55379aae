namespace HealthProxy.Consul.Tests;

/// <summary>Builds clients the way the product will: an HttpClient without its own timeout.</summary>
internal static class TestClients
{
    public static ConsulClient For(Uri address, string? token = null, long maxResponseBytes = ConsulClientOptions.DefaultMaxResponseBytes) =>
        For(new ConsulClientOptions { Address = address, Token = token, MaxResponseBytes = maxResponseBytes });

    public static ConsulClient For(ConsulClientOptions options, HttpMessageHandler? handler = null, TimeProvider? timeProvider = null) =>
        new(new HttpClient(handler ?? new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan }, options, timeProvider);
}
