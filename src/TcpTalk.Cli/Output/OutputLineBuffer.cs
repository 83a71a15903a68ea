using System.Buffers;

namespace TcpTalk.Cli.Output;

/// <summary>
/// A growable byte buffer that formatting writes into. It keeps what it grew to, up to
/// <paramref name="retainBytes"/>, between writes: under a steady flood it fills to the output's bound at every
/// swap, and growing it again each time (a new large array, zeroed and faulted in page by page, then copied into)
/// cost a fifth of the server's CPU in stream mode (bench/PROFILE.md). Past that (a huge message) it shrinks back.
/// </summary>
internal sealed class OutputLineBuffer(int capacity, int retainBytes) : IBufferWriter<byte>
{
    private byte[] _bytes = new byte[capacity];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _bytes.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _bytes.AsSpan(Length);
    }

    public void Clear()
    {
        Length = 0;
        if (_bytes.Length > retainBytes)
        {
            _bytes = new byte[capacity];
        }
    }

    private void Ensure(int sizeHint)
    {
        int need = Math.Max(sizeHint, 16);
        if (_bytes.Length - Length < need)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + need));
        }
    }
}
