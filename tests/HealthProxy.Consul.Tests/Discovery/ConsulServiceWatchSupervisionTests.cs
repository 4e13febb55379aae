using System.Collections.Concurrent;
using HealthProxy.Consul.Discovery;
using HealthProxy.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HealthProxy.Consul.Tests.Discovery;

/// <summary>A watch whose client fails in a way no Consul failure explains says so at Error, and keeps following.</summary>
public sealed class ConsulServiceWatchSupervisionTests
{
    [Fact]
    public async Task Run_ClientThrowsUnexpectedException_LoggedAtErrorWithIt_AndTheWatchRecovers()
    {
        var clock = new FakeTimeProvider();
        var client = new ScriptedConsulClient();
        var defect = new InvalidOperationException("a defect in the client");
        client.Throw(defect);
        client.Answer(10, ScriptedConsulClient.Entry("a", "passing"));
        var log = new RecordingLogger();
        await using var watch = new ConsulServiceWatch(
            client,
            new ConsulServiceWatchOptions { ServiceName = "web", RateLimitInterval = TimeSpan.Zero, RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(8) },
            clock,
            log);

        watch.Start();
        await Eventually.HoldsAsync(() => watch.Status.ConsecutiveFailures == 1, "the defect was reported as a failure");
        var error = Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
        Assert.Same(defect, error.Exception);
        Assert.Equal(ConsulErrorKind.Unexpected, watch.Status.LastErrorKind);

        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.HoldsAsync(() => watch.Current is { Index: 10 } && watch.Status.IsReachable, "the watch retried after its backoff and got an answer");
    }

    private sealed class RecordingLogger : ILogger<ConsulServiceWatch>
    {
        public ConcurrentQueue<(LogLevel Level, Exception? Exception)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, exception));
    }
}
