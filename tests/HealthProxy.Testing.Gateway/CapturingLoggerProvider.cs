using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Testing.Gateway;

/// <summary>Keeps every log entry the gateway writes, for tests that assert on what an operator would read.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>One log entry: its category, level, event id, rendered message and exception.</summary>
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        /// <summary>The text a console sink would write for it: the message and the exception with its stack trace.</summary>
        public int Length => Message.Length + (Exception?.ToString().Length ?? 0);
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
