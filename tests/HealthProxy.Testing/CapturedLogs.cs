using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HealthProxy.Testing;

/// <summary>A logging provider that keeps every formatted entry, for tests that assert what was logged.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Whether some entry with <paramref name="eventId"/> has a message containing every one of <paramref name="parts"/>.</summary>
    public bool Has(int eventId, params string[] parts) =>
        _entries.Any(e => e.EventId == eventId && parts.All(p => e.Message.Contains(p, StringComparison.Ordinal)));

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, eventId.Id, formatter(state, exception), exception));
    }
}
