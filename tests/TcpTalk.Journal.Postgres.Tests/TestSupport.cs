global using JournalUnavailableExceptionAlias = TcpTalk.Messages.JournalUnavailableException;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Journal.Postgres.Tests;

internal static class Schemas
{
    /// <summary>A schema name no other test uses, so tests sharing a cluster never see each other's rows.</summary>
    public static string Fresh() => "t_" + Guid.NewGuid().ToString("N")[..12];
}

/// <summary>Collects an async sequence, for assertions on all of it.</summary>
internal static class AsyncEnumerables
{
    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

/// <summary>Collects every log line, for tests that count them.</summary>
internal sealed class ListLogger : ILoggerProvider, ILogger
{
    public ConcurrentQueue<string> Queue { get; } = new();

    public IEnumerable<string> Lines => Queue;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Queue.Enqueue(formatter(state, exception));

    public void Dispose()
    {
    }
}
