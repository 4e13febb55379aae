using Microsoft.Extensions.Logging;

namespace HealthProxy.Testing;

/// <summary>A logging provider that is on at every level and writes nothing: it makes loggers report themselves enabled.</summary>
public sealed class SilentLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => Silent.Instance;

    public void Dispose()
    {
    }

    private sealed class Silent : ILogger
    {
        public static readonly Silent Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
