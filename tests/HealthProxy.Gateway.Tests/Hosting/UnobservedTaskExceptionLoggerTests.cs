using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using HealthProxy.Gateway.Hosting;
using HealthProxy.Testing;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Gateway.Tests.Hosting;

public sealed class UnobservedTaskExceptionLoggerTests
{
    [Fact]
    public async Task UnobservedTaskException_FaultedTaskCollected_LoggedAsError()
    {
        var logger = new RecordingLogger();
        var hosted = new UnobservedTaskExceptionLogger(logger);
        await hosted.StartAsync(CancellationToken.None);
        try
        {
            var marker = Guid.NewGuid().ToString();
            FaultAndForget(marker);

            // The event fires when the faulted task is finalized: collect until it has been.
            await Eventually.HoldsAsync(
                () =>
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    return logger.Errors.Any(e => e.Contains(marker, StringComparison.Ordinal));
                },
                "the unobserved exception was logged at Error");
        }
        finally
        {
            await hosted.StopAsync(CancellationToken.None);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FaultAndForget(string marker) => _ = Task.Run(() => throw new InvalidOperationException(marker));

    private sealed class RecordingLogger : ILogger<UnobservedTaskExceptionLogger>
    {
        public ConcurrentQueue<string> Errors { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                Errors.Enqueue($"{eventId.Id} {formatter(state, exception)} {exception}");
            }
        }
    }
}
