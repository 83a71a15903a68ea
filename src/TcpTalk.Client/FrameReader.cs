using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Reads whole frames from the connection's stream (the socket's, or TLS over it) with a <see cref="MessageFramer"/>,
/// keeping bytes past a frame for the next read. Socket errors surface as the <see cref="SocketException"/> itself.
/// </summary>
internal sealed class FrameReader(Stream stream, MessageFramer framer)
{
    private byte[] _buffer = new byte[1024];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>
    /// When set, called with everything received so far (from the first byte) after each read, until cleared; it
    /// throws to reject what the peer sent before a frame is complete (a TLS record where a greeting should be).
    /// </summary>
    public Action<ReadOnlySpan<byte>>? CheckStart { get; set; }

    /// <summary>The next frame's payload, or null at a clean end of stream. An unterminated tail at EOF is a final frame.</summary>
    /// <exception cref="MessageTooLongException">The frame is longer than the framer's limit.</exception>
    /// <exception cref="MalformedFrameException">A length-prefixed framing's header is not a length, or the stream ended inside a frame.</exception>
    /// <exception cref="SocketException">The connection was reset or failed.</exception>
    /// <exception cref="IOException">The TLS session broke (a TLS alert, a corrupt record).</exception>
    public async ValueTask<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            if (framer.TryReadMessage(pending, out int at, out int length, out int frame))
            {
                byte[] payload = pending.Slice(at, length).ToArray();
                _start += frame;
                return payload;
            }

            if (_eof)
            {
                if (framer.TryReadFinalMessage(pending, out length))
                {
                    byte[] payload = pending[..length].ToArray();
                    _start = _end;
                    return payload;
                }

                return null;
            }

            if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
                else
                {
                    Array.Resize(ref _buffer, (int)Math.Min(_buffer.Length * 2L, framer.MaxFrameBytes));
                }
            }

            int received;
            try
            {
                received = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is SocketException socketError)
            {
                ExceptionDispatchInfo.Throw(socketError);
                throw;
            }

            if (received == 0)
            {
                _eof = true;
            }

            _end += received;
            CheckStart?.Invoke(_buffer.AsSpan(0, _end));
        }
    }
}
