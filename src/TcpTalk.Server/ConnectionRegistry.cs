using System.Collections.Concurrent;

namespace TcpTalk.Server;

/// <summary>
/// The connections being served, by id: every handler task is tracked here from admission to close, so nothing is
/// fire-and-forget, and a stop can ask them all to finish and know when they have.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ConnectionHandler> _connections = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;

    /// <summary>Connections open right now.</summary>
    public int Count => _connections.Count;

    /// <summary>The open connections (a moment's view).</summary>
    public ICollection<ConnectionHandler> Handlers => _connections.Values;

    /// <summary>Completes once <see cref="BeginDraining"/> was called and the last connection has closed.</summary>
    public Task Drained => _drained.Task;

    public void Add(ConnectionHandler handler) => _connections[handler.Info.Id] = handler;

    public void Remove(ConnectionHandler handler)
    {
        _connections.TryRemove(handler.Info.Id, out _);
        if (_draining && _connections.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Asks every connection to close at its next message boundary; <see cref="Drained"/> then completes.</summary>
    public void BeginDraining()
    {
        _draining = true;
        foreach (var handler in _connections.Values)
        {
            handler.RequestStop();
        }
    }

    /// <summary>Completes <see cref="Drained"/> if nothing is open (after the accept loops, nothing more is added).</summary>
    public void CompleteIfEmpty()
    {
        if (_draining && _connections.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Closes every open connection's socket now.</summary>
    public void AbortAll()
    {
        foreach (var handler in _connections.Values)
        {
            handler.Abort();
        }
    }
}
