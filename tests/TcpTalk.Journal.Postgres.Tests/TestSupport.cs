global using JournalUnavailableExceptionAlias = TcpTalk.Messages.JournalUnavailableException;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using System.Text;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>Builds <see cref="MessageBatch"/>es the way the connection handler does: one buffer, message ranges in it.</summary>
internal static class Batches
{
    public static readonly DateTimeOffset Time = new DateTimeOffset(2024, 5, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234560);

    public static ConnectionInfo Connection(long id = 1, string client = "127.0.0.1", int clientPort = 5000,
        string local = "127.0.0.1", int localPort = 12345) =>
        new(id, new IPEndPoint(IPAddress.Parse(local), localPort), new IPEndPoint(IPAddress.Parse(client), clientPort));

    public static MessageBatch Of(params string[] messages) =>
        Of(Connection(), Time, MessageText.Utf8, messages.Select(m => Encoding.UTF8.GetBytes(m)).ToArray());

    public static MessageBatch Of(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding, params byte[][] messages)
    {
        // A terminator byte between messages, as in a real receive buffer: the batch must slice it away.
        var buffer = new List<byte>();
        var ranges = new (int Start, int Length)[messages.Length];
        for (int i = 0; i < messages.Length; i++)
        {
            ranges[i] = (buffer.Count, messages[i].Length);
            buffer.AddRange(messages[i]);
            buffer.Add(0);
        }

        return new MessageBatch(connection, receivedAt, encoding, buffer.ToArray(), ranges);
    }
}

internal static class Schemas
{
    /// <summary>A schema name no other test uses, so tests sharing a cluster never see each other's rows.</summary>
    public static string Fresh() => "t_" + Guid.NewGuid().ToString("N")[..12];
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms until true, or fails after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {timeout}: {what}");
            await Task.Delay(20);
        }
    }

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
